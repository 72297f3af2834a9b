"""The auto chain: upstream -> LLM -> schema, and which link may answer when."""

from __future__ import annotations

import json
from typing import Any

import pytest

from toolsim.cache.entry import CacheEntry, Reply, Source
from toolsim.cache.keys import cache_key, normalize_arguments
from toolsim.catalog import Catalog
from toolsim.catalog.loaders import example_suite_dir, load_tool_folder
from toolsim.catalog.models import ApiSpec
from toolsim.errors import UpstreamError, UserError
from toolsim.server import create_app
from toolsim.settings import Settings
from toolsim.simulator import (
    LLMSimulator,
    LLMUnavailable,
    Simulation,
    SimulationRequest,
    Simulator,
    available_simulators,
    create_simulator,
)
from toolsim.simulator.chain import FallbackChain
from toolsim.simulator.exemplar import ExemplarSimulator
from toolsim.simulator.factories import LocalSimulator
from toolsim.simulator.schema import SchemaSimulator
from toolsim.simulator.upstream import UpstreamRelay

API = ApiSpec(
    category="Weather",
    tool_name="SkyCast Weather",
    name="Current Weather",
    template_response={"city": "str", "temperature": "float"},
)
REQUEST = SimulationRequest(api=API, arguments={"city": "Lisbon"}, key="k" * 64)
WEATHER = {"category": "Weather", "tool_name": "SkyCast Weather", "api_name": "Current Weather"}


class FakeLink:
    """A scripted simulator: answers ``outcome`` (a Reply) or raises it (an exception)."""

    def __init__(
        self,
        name: str,
        outcome: Reply | Exception,
        *,
        source: Source = Source.SIMULATED,
        example_count: int = 0,
        example_chars: int = 0,
    ) -> None:
        self.name = name
        self.outcome = outcome
        self.source = source
        self.example_count = example_count
        self.example_chars = example_chars
        self.calls: list[SimulationRequest] = []
        self.closed = False

    async def simulate(self, request: SimulationRequest) -> Simulation:
        self.calls.append(request)
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return Simulation(reply=self.outcome, source=self.source, simulator=self.name)

    async def aclose(self) -> None:
        self.closed = True


def _upstream(outcome: Reply | Exception) -> FakeLink:
    return FakeLink("upstream", outcome, source=Source.REAL)


def _llm(outcome: Reply | Exception) -> FakeLink:
    return FakeLink("openai", outcome, example_count=5, example_chars=2000)


LLM_REPLY = Reply(response={"from": "llm"})


def test_fakes_and_chain_satisfy_the_protocol():
    chain = FallbackChain(
        _llm(LLM_REPLY), upstream=_upstream(LLM_REPLY), fallback=SchemaSimulator()
    )

    assert isinstance(_llm(LLM_REPLY), Simulator)
    assert isinstance(chain, Simulator)
    assert chain.name == "upstream+openai+schema"
    assert (chain.example_count, chain.example_chars) == (5, 2000)  # the LLM's wishes


async def test_upstream_answer_wins():
    upstream, llm = _upstream(Reply(response={"from": "real"})), _llm(LLM_REPLY)

    simulation = await FallbackChain(llm, upstream=upstream).simulate(REQUEST)

    assert simulation.reply.response == {"from": "real"}
    assert (simulation.source, simulation.simulator) == (Source.REAL, "upstream")
    assert llm.calls == []


async def test_llm_answers_when_upstream_fails():
    upstream, llm = _upstream(UpstreamError("rate limited")), _llm(LLM_REPLY)

    simulation = await FallbackChain(llm, upstream=upstream).simulate(REQUEST)

    assert simulation.reply == LLM_REPLY
    assert (simulation.source, simulation.simulator) == (Source.SIMULATED, "openai")
    assert len(upstream.calls) == len(llm.calls) == 1


async def test_schema_answers_when_the_llm_is_unavailable():
    llm = _llm(LLMUnavailable("cannot reach the model"))

    simulation = await FallbackChain(llm, fallback=SchemaSimulator()).simulate(REQUEST)

    assert simulation.simulator == "schema"
    assert simulation.reply.error == ""
    assert simulation.reply.response["city"] == "Lisbon"


async def test_unavailable_llm_without_fallback_is_an_error():
    upstream = _upstream(UpstreamError("rate limited"))
    chain = FallbackChain(_llm(LLMUnavailable("cannot reach the model")), upstream=upstream)

    with pytest.raises(LLMUnavailable, match="cannot reach"):
        await chain.simulate(REQUEST)


async def test_bad_llm_output_is_an_error_even_with_a_fallback():
    fallback = FakeLink("schema", Reply(response="made up"))
    chain = FallbackChain(_llm(UpstreamError("no valid reply after 3 attempts")), fallback=fallback)

    with pytest.raises(UpstreamError, match="no valid reply") as caught:
        await chain.simulate(REQUEST)

    assert not isinstance(caught.value, LLMUnavailable)
    assert fallback.calls == []


def _exemplar_request(response: Any) -> SimulationRequest:
    recorded = CacheEntry(
        category="Weather",
        tool="skycast_weather",
        api="current_weather",
        arguments={"city": "Tokyo"},
        reply=Reply(response=response),
        source=Source.IMPORTED,
    )
    return SimulationRequest(
        api=API, arguments={"city": "Lisbon"}, key="k" * 64, exemplars=(("e1", recorded),)
    )


async def test_exemplar_answers_before_the_llm_when_the_api_has_a_recorded_reply():
    llm = _llm(LLM_REPLY)
    chain = FallbackChain(llm, exemplar=ExemplarSimulator())

    simulation = await chain.simulate(_exemplar_request({"city": "Tokyo", "temperature": 21.5}))

    assert simulation.reply.response == {"city": "Lisbon", "temperature": 21.5}
    assert (simulation.source, simulation.simulator) == (Source.ADAPTED, "exemplar")
    assert simulation.examples == ("e1",)  # the entry it was adapted from
    assert llm.calls == []


async def test_without_a_recorded_reply_the_exemplar_link_passes_on_to_the_llm():
    llm = _llm(LLM_REPLY)
    chain = FallbackChain(llm, exemplar=ExemplarSimulator())

    simulation = await chain.simulate(REQUEST)

    assert simulation.reply == LLM_REPLY and len(llm.calls) == 1
    assert chain.name == "exemplar+openai"


async def test_aclose_closes_every_link():
    links = [_upstream(LLM_REPLY), _llm(LLM_REPLY), FakeLink("schema", LLM_REPLY)]

    await FallbackChain(links[1], upstream=links[0], fallback=links[2]).aclose()

    assert all(link.closed for link in links)


async def test_stored_entry_names_the_link_that_answered(tmp_path):
    chain = FallbackChain(_llm(LLMUnavailable("down")), fallback=SchemaSimulator())
    app = create_app(Settings(home=tmp_path, cache={"url": "memory://"}), simulator=chain)
    service = app.state.service
    api = service.catalog.resolve(*WEATHER.values())

    result = await service.call(api, {"city": "Lisbon"})

    entry = service.backend.get(cache_key(api, normalize_arguments(api, {"city": "Lisbon"})))
    assert result.reply.error == ""
    assert (entry.simulator, entry.source) == ("schema", Source.SIMULATED)


# --- the registry -------------------------------------------------------------------------


async def test_auto_with_endpoint_and_fallback_is_a_chain(tmp_path):
    settings = Settings(
        home=tmp_path, simulator={"base_url": "http://127.0.0.1:9/v1", "schema_fallback": True}
    )

    chain = create_simulator("auto", settings=settings)
    try:
        assert isinstance(chain, FallbackChain)
        assert isinstance(chain.llm, LLMSimulator) and chain.llm.name == "openai"
        assert isinstance(chain.fallback, SchemaSimulator)
        assert chain.upstream is None
    finally:
        await chain.aclose()


async def test_auto_with_upstream_puts_it_first(tmp_path):
    settings = Settings(
        home=tmp_path,
        simulator={"base_url": "http://127.0.0.1:9/v1"},
        upstream={"url": "http://127.0.0.1:9/"},
    )

    chain = create_simulator("auto", settings=settings)
    try:
        assert isinstance(chain, FallbackChain)
        assert isinstance(chain.upstream, UpstreamRelay)
        assert chain.fallback is None
        # A remote model answers misses itself (recorded replies are its examples).
        assert chain.name == "upstream+openai"
    finally:
        await chain.aclose()


async def test_auto_without_endpoint_uses_exemplars_then_the_local_model(tmp_path):
    bare = create_simulator("auto", settings=Settings(home=tmp_path))
    chained = create_simulator(
        "auto", settings=Settings(home=tmp_path, simulator={"schema_fallback": True})
    )
    try:
        assert isinstance(bare, FallbackChain) and bare.name == "exemplar+local"
        assert isinstance(bare.exemplar, ExemplarSimulator) and bare.exemplar_count > 0
        assert isinstance(bare.llm, LocalSimulator) and bare.llm.name == "local"
        assert isinstance(chained, FallbackChain) and chained.name == "exemplar+local+schema"
        assert isinstance(chained.llm, LocalSimulator) and chained.llm.name == "local"
        assert bare.llm.server._endpoint is None  # created, never started
    finally:
        await bare.aclose()
        await chained.aclose()


def test_unknown_simulator_lists_the_available_ones():
    with pytest.raises(UserError) as caught:
        create_simulator("gpt-simulator-9000")

    assert "gpt-simulator-9000" in caught.value.message
    for name in ("auto", "local", "openai", "schema", "upstream"):
        assert name in available_simulators()
        assert name in caught.value.message


async def test_auto_falls_back_to_schema_on_a_dead_endpoint(tmp_path, refused_url, connect):
    # No model name: even discovering it fails, and that too counts as unavailable.
    settings = Settings(
        home=tmp_path,
        cache={"url": "memory://"},
        simulator={"base_url": refused_url, "schema_fallback": True},
    )
    # The example tools without the suite's recorded replies: nothing to adapt.
    app = create_app(settings, catalog=Catalog(load_tool_folder(example_suite_dir() / "tools")))
    body: dict[str, Any] = {**WEATHER, "tool_input": json.dumps({"city": "Lisbon"})}
    try:
        async with connect(app) as client:
            reply = await client.post("/virtual", json=body)
    finally:
        await app.state.service.simulator.aclose()

    assert reply.status_code == 200
    assert reply.json()["error"] == ""
    assert reply.json()["response"]["city"] == "Lisbon"
    [(_key, entry)] = list(app.state.service.backend.items())
    assert entry.simulator == "schema"

"""The openai LLM simulator against a fault-injecting stub server, directly and through the app."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from toolsim.cache.entry import CacheEntry, Reply, Source
from toolsim.cache.keys import cache_key, normalize_arguments
from toolsim.catalog.models import ApiSpec, Parameter, ParamType
from toolsim.errors import UpstreamError
from toolsim.llm import OpenAIChat
from toolsim.llm.chat import ChatRequest
from toolsim.settings import RetrySettings, SimulatorSettings
from toolsim.simulator import (
    Endpoint,
    LLMSimulator,
    LLMUnavailable,
    SimulationRequest,
)
from toolsim.simulator.examples import example_size
from toolsim.simulator.prompt import PromptTemplates

API = ApiSpec(
    category="Weather",
    tool_name="SkyCast Weather",
    name="Current Weather",
    description="Returns the current weather conditions for a city.",
    parameters=(Parameter("city", ParamType.STRING, "Name of the city.", required=True),),
    template_response={"city": "str", "temperature": "float"},
    tool_description="Fictional weather service.",
)
WEATHER = {"category": "Weather", "tool_name": "SkyCast Weather", "api_name": "Current Weather"}
NATIVE = "/v1/tools/current_weather_for_skycast_weather"
TIMEOUT = 1.0
#: Slack allowed past the timeout before the caller must have its error.
MARGIN = 1.0

#: What each fault's error message must mention.
CAUSES = {
    "refused": "cannot reach the model",
    "slow": "did not answer within",
    "500": "HTTP 500",
    "429": "HTTP 429",
    "garbage": "not JSON",
    "bad_shape": "'error' and 'response'",
    "html": "did not answer with JSON",
    "broken_json": "malformed JSON",
}
#: The timeout fault waits out TIMEOUT: a slow test, left out of the fast lane.
FAULTS = [pytest.param(f, marks=pytest.mark.slow) if f == "slow" else f for f in CAUSES]
#: Requests the stub sees per fault: transient ones are re-sent unchanged (RETRY.retries
#: times), invalid output is sampled again (3 attempts), anything else fails at once.
SENT = {"500": 3, "429": 3, "garbage": 3, "bad_shape": 3, "html": 1, "broken_json": 1}
#: Fast retries, so fault tests take milliseconds.
RETRY = RetrySettings(retries=2, base=0.01, max=0.05)


def _request(city: str = "Lisbon") -> SimulationRequest:
    return SimulationRequest(api=API, arguments={"city": city}, key=f"key-{city}")


def _body(arguments: dict[str, Any]) -> dict[str, Any]:
    return {**WEATHER, "tool_input": json.dumps(arguments), "strip": "", "toolbench_key": ""}


def _key(app: Any, arguments: dict[str, Any]) -> str:
    api = app.state.service.catalog.resolve(*WEATHER.values())
    return cache_key(api, normalize_arguments(api, arguments))


def _seed(app: Any, city: str) -> dict[str, Any]:
    """Store a reply for ``city`` directly in the app's cache; return its response."""
    api = app.state.service.catalog.resolve(*WEATHER.values())
    arguments = normalize_arguments(api, {"city": city})
    response = {"seeded": city}
    entry = CacheEntry(
        category=api.category_folder,
        tool=api.tool_key,
        api=api.api_key,
        arguments=arguments,
        reply=Reply(response=response),
        source=Source.IMPORTED,
    )
    app.state.service.backend.put(cache_key(api, arguments), entry)
    return response


@pytest.fixture
async def make_llm():
    """Build LLM simulators on an endpoint; closes them at teardown."""
    made: list[LLMSimulator] = []

    def make(base_url: str, **options: Any) -> LLMSimulator:
        settings = SimulatorSettings(**({"timeout": TIMEOUT, "attempts": 3} | options))
        simulator = LLMSimulator(Endpoint(base_url, "stub-model"), options=settings, retry=RETRY)
        made.append(simulator)
        return simulator

    yield make
    for simulator in made:
        await simulator.aclose()


@pytest.fixture
def fault_url(request: pytest.FixtureRequest, stub, refused_url) -> str:
    """The stub switched to the fault named by the test's ``fault`` parameter."""
    fault = request.getfixturevalue("fault")
    if fault == "refused":
        return refused_url
    stub.mode = fault
    return stub.base_url


# --- directly -----------------------------------------------------------------------------


async def test_valid_reply_and_what_the_model_is_asked(stub, make_llm):
    simulator = make_llm(stub.base_url)

    simulation = await simulator.simulate(_request())

    assert simulation.reply == Reply(response={"city": "Lisbon", "temperature": 21.5})
    assert simulation.source is Source.SIMULATED
    assert (simulation.simulator, simulation.model) == ("openai", "stub-model")
    assert simulation.prompt_hash == PromptTemplates.load().hash
    [sent] = stub.requests
    assert sent["model"] == "stub-model"
    assert sent["temperature"] == 0
    assert sent["seed"] == 42
    assert sent["response_format"]["type"] == "json_schema"
    schema = sent["response_format"]["json_schema"]["schema"]
    assert set(schema["required"]) == {"error", "response"}
    assert '"Lisbon"' in stub.user_message()


@pytest.mark.parametrize("fault", FAULTS)
async def test_fault_is_a_clear_error(fault, fault_url, stub, make_llm):
    simulator = make_llm(fault_url)

    started = time.monotonic()
    with pytest.raises(UpstreamError) as caught:
        await simulator.simulate(_request())
    elapsed = time.monotonic() - started

    assert CAUSES[fault] in caught.value.message
    assert elapsed < TIMEOUT + MARGIN
    if fault == "refused":
        assert isinstance(caught.value, LLMUnavailable)
        assert stub.requests == []
    elif fault != "slow":
        assert not isinstance(caught.value, LLMUnavailable)
        assert len(stub.requests) == SENT[fault]
        if fault in ("500", "429"):
            assert "after 2 retries" in caught.value.message
            # The same request each time: a transient fault never changes what is asked.
            assert stub.requests[1:] == stub.requests[:-1]


async def test_invalid_output_names_the_served_model(stub, make_llm):
    stub.mode = "garbage"
    simulator = make_llm(stub.base_url)

    with pytest.raises(UpstreamError, match="no valid reply after 3 attempts") as caught:
        await simulator.simulate(_request())

    # The model the endpoint serves, not the simulator's label ("openai").
    assert caught.value.details["model"] == "stub-model"


@pytest.mark.parametrize(
    ("retry_after", "waited"), [("0.3", 0.3), ("30", 0.5)], ids=["honoured", "capped"]
)
async def test_transient_failures_resend_the_same_request(stub, retry_after, waited):
    stub.sequence = ["429", "500"]
    stub.retry_after = retry_after
    chat = OpenAIChat(
        Endpoint(stub.base_url, "stub-model"),
        retry=RetrySettings(retries=3, base=0.01, max=0.5),
    )
    request = ChatRequest(messages=({"role": "user", "content": "hi"},), temperature=0.2, seed=7)
    try:
        reply = await chat.complete(request)
    finally:
        await chat.aclose()

    assert json.loads(reply.content)["response"]["city"] == "Lisbon"
    assert reply.retries == 2
    # Retry-After (up to the cap) for the 429, then the second backoff (0.02 + jitter <= 0.01).
    assert waited + 0.02 <= reply.retry_seconds <= waited + 0.03 + 1e-6
    assert len(stub.requests) == 3
    assert stub.requests[0] == stub.requests[1] == stub.requests[2]
    assert (stub.requests[0]["temperature"], stub.requests[0]["seed"]) == (0.2, 7)


async def test_attempts_recover_from_bad_output(stub, make_llm):
    stub.sequence = ["garbage", "garbage", "ok"]
    simulator = make_llm(stub.base_url, timeout=10)

    simulation = await simulator.simulate(_request())

    assert simulation.reply.response == {"city": "Lisbon", "temperature": 21.5}
    assert len(stub.requests) == 3
    # A retry at temperature 0 would repeat the bad output; retries sample, reproducibly.
    assert [body["temperature"] for body in stub.requests] == [0.0, 0.5, 0.5]
    assert [body["seed"] for body in stub.requests] == [42, 43, 44]


async def test_attempts_are_bounded(stub, make_llm):
    stub.mode = "garbage"
    simulator = make_llm(stub.base_url, timeout=10)

    with pytest.raises(UpstreamError, match="after 3 attempts"):
        await simulator.simulate(_request())

    assert len(stub.requests) == 3


async def test_rejected_json_schema_degrades_to_json_object(stub, make_llm):
    stub.mode = "reject_schema"
    simulator = make_llm(stub.base_url, timeout=10)

    first = await simulator.simulate(_request("Lisbon"))
    second = await simulator.simulate(_request("Porto"))

    assert first.reply.error == second.reply.error == ""
    kinds = [body["response_format"]["type"] for body in stub.requests]
    assert kinds == ["json_schema", "json_object", "json_object"]  # degraded once, for good


async def test_schema_rejection_does_not_use_up_attempts(stub, make_llm):
    stub.mode = "reject_schema"
    simulator = make_llm(stub.base_url, timeout=10, attempts=1)

    simulation = await simulator.simulate(_request())

    assert simulation.reply.error == ""
    assert [body["response_format"]["type"] for body in stub.requests] == [
        "json_schema",
        "json_object",
    ]


async def test_concurrent_schema_rejections_degrade_one_step(stub, make_llm):
    stub.mode = "reject_schema"
    stub.delay = 0.2  # every first request is sent before any rejection comes back
    simulator = make_llm(stub.base_url, timeout=10, concurrency=4)

    simulations = await asyncio.gather(*(simulator.simulate(_request(f"c{i}")) for i in range(4)))

    assert all(simulation.reply.error == "" for simulation in simulations)
    kinds = sorted(body.get("response_format", {}).get("type", "none") for body in stub.requests)
    assert kinds == ["json_object"] * 4 + ["json_schema"] * 4  # never down to no constraint


async def test_concurrency_is_bounded(stub, make_llm):
    stub.delay = 0.2  # answers overlap unless the simulator holds them back
    simulator = make_llm(stub.base_url, timeout=10, concurrency=2)

    simulations = await asyncio.gather(*(simulator.simulate(_request(f"c{i}")) for i in range(6)))

    assert len(simulations) == len(stub.requests) == 6
    assert stub.max_in_flight == 2


# --- through the server -------------------------------------------------------------------


async def test_valid_reply_is_stored_then_hit(stub, make_app, connect):
    app = make_app(simulator={"base_url": stub.base_url, "model": "stub-model", "timeout": 2})
    body = _body({"city": "Lisbon"})

    async with connect(app) as client:
        first = await client.post("/virtual", json=body)
        second = await client.post("/virtual", json=body)

    assert first.status_code == 200
    assert first.json() == {"error": "", "response": {"city": "Lisbon", "temperature": 21.5}}
    assert second.content == first.content
    assert len(stub.requests) == 1  # the second call was a hit
    sent = stub.requests[0]
    assert (sent["temperature"], sent["seed"]) == (0, 42)
    assert sent["response_format"]["type"] == "json_schema"
    assert set(sent["response_format"]["json_schema"]["schema"]["required"]) == {
        "error",
        "response",
    }
    entry = app.state.service.backend.get(_key(app, {"city": "Lisbon"}))
    assert entry.source is Source.SIMULATED
    assert (entry.simulator, entry.model) == ("openai", "stub-model")
    assert entry.prompt_hash == PromptTemplates.load().hash


@pytest.mark.parametrize("fault", FAULTS)
async def test_fault_through_the_server_is_not_cached(fault, fault_url, stub, make_app, connect):
    app = make_app(simulator={"base_url": fault_url, "model": "stub-model", "timeout": TIMEOUT})
    seeded = _seed(app, "Porto")
    backend = app.state.service.backend
    stored = len(backend)

    async with connect(app) as client:
        started = time.monotonic()
        virtual = await client.post("/virtual", json=_body({"city": "Lisbon"}))
        elapsed = time.monotonic() - started
        seen = len(stub.requests)
        native = await client.post(NATIVE, json={"city": "Lisbon"})
        hit = await client.post("/virtual", json=_body({"city": "Porto"}))

    assert virtual.status_code == 200
    assert virtual.json()["response"] == ""
    assert CAUSES[fault] in virtual.json()["error"]
    assert elapsed < TIMEOUT + MARGIN
    assert native.status_code == 502
    assert native.json()["error"]["type"] == "upstream_error"
    assert CAUSES[fault] in native.json()["error"]["message"]
    assert len(backend) == stored  # nothing cached
    if fault != "refused":
        assert len(stub.requests) > seen  # the second call asked the model again
    assert hit.json() == {"error": "", "response": seeded}


@pytest.mark.slow
async def test_hit_is_served_while_a_slow_miss_is_in_flight(stub, make_app, connect):
    stub.mode = "slow"
    app = make_app(simulator={"base_url": stub.base_url, "model": "stub-model", "timeout": TIMEOUT})
    seeded = _seed(app, "Porto")

    async with connect(app) as client:
        miss = asyncio.create_task(client.post("/virtual", json=_body({"city": "Lisbon"})))
        await stub.wait_for_requests(1)  # the miss is with the model now
        hit = await client.post("/virtual", json=_body({"city": "Porto"}))
        miss_done_before_hit = miss.done()
        missed = await miss

    assert hit.json() == {"error": "", "response": seeded}
    assert not miss_done_before_hit
    assert CAUSES["slow"] in missed.json()["error"]


RECORDED = {
    "A": {"city": "Lisbon", "lang": "en", "units": "metric"},
    "B": {"city": "Lisbon", "lang": "fr", "units": "imperial"},
    "C": {"city": "Tokyo", "lang": "ja", "units": "imperial"},
}
#: Differs from A in one field, from B in two, from C in three.
NEW_CALL = {"city": "Lisbon", "lang": "pt", "units": "metric"}


def _recorded_reply(name: str) -> str:
    return json.dumps({"error": "", "response": {"marker": f"REPLY-{name}", "temp": 20}})


def _one_example_chars() -> int:
    """A budget that fits example A but not A and another."""
    reply = Reply(**json.loads(_recorded_reply("A")))
    entry = CacheEntry(
        category="Weather",
        tool="t",
        api="a",
        arguments=RECORDED["A"],
        reply=reply,
        source="simulated",
    )
    return example_size(entry) + 10


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        ({}, ["A", "B", "C"]),
        ({"examples": 2}, ["A", "B"]),
        ({"examples_chars": _one_example_chars()}, ["A"]),
        ({"examples": 0}, []),
    ],
    ids=["all", "count", "chars", "none"],
)
async def test_recorded_replies_become_examples(stub, make_app, connect, limits, expected):
    simulator = {"base_url": stub.base_url, "model": "stub-model", **limits}
    app = make_app(simulator=simulator, cache={"url": "memory://"})
    async with connect(app) as client:
        for name, arguments in RECORDED.items():
            stub.reply = _recorded_reply(name)
            assert (await client.post("/virtual", json=_body(arguments))).json()["error"] == ""
        stub.reply = _recorded_reply("NEW")
        reply = await client.post("/virtual", json=_body(NEW_CALL))

    assert reply.json()["response"]["marker"] == "REPLY-NEW"
    prompt = stub.user_message()
    shown = [name for name in RECORDED if f"REPLY-{name}" in prompt]
    assert shown == expected
    positions = [prompt.index(f"REPLY-{name}") for name in shown]
    assert positions == sorted(positions)  # closest arguments first
    entry = app.state.service.backend.get(_key(app, NEW_CALL))
    assert entry.examples == [_key(app, RECORDED[name]) for name in expected]


async def test_model_name_is_discovered(stub, make_app, connect):
    stub.models = ["discovered-7b", "another"]
    app = make_app(simulator={"base_url": stub.base_url, "timeout": 2})

    async with connect(app) as client:
        for city in ("Lisbon", "Porto"):
            assert (await client.post("/virtual", json=_body({"city": city}))).json()["error"] == ""

    assert stub.model_listings == 1
    assert [body["model"] for body in stub.requests] == ["discovered-7b", "discovered-7b"]
    assert app.state.service.backend.get(_key(app, {"city": "Lisbon"})).model == "discovered-7b"


async def test_model_discovery_on_a_dead_endpoint_is_unavailable(refused_url, make_app, connect):
    app = make_app(simulator={"base_url": refused_url, "timeout": 2})

    async with connect(app) as client:
        reply = await client.post(NATIVE, json={"city": "Lisbon"})

    assert reply.status_code == 502
    assert "cannot list models" in reply.json()["error"]["message"]


async def test_a_mirrorapi_style_model_in_its_own_format(stub, make_llm):
    """No response_format, a larger max_tokens, and the first JSON object of prose, repaired."""
    stub.reply = "The API returns:\n{'city': 'Lisbon', 'temperature': 21.5,}\nDone."
    strict = make_llm(stub.base_url, response_format="none", attempts=1)
    with pytest.raises(UpstreamError, match="not JSON"):
        await strict.simulate(_request())
    lenient = make_llm(stub.base_url, response_format="none", lenient_json=True, max_tokens=2048)
    simulation = await lenient.simulate(_request())
    assert simulation.reply == Reply(response={"city": "Lisbon", "temperature": 21.5})
    sent = stub.requests[-1]
    assert "response_format" not in sent and sent["max_tokens"] == 2048


async def test_the_lenient_setting_reaches_the_openai_simulator(stub):
    from toolsim.settings import Settings
    from toolsim.simulator import create_simulator

    settings = Settings(simulator={"base_url": stub.base_url, "lenient_json": True})
    simulator = create_simulator("openai", settings=settings)
    try:
        assert simulator.options.lenient_json is True
    finally:
        await simulator.aclose()


async def test_a_model_that_keeps_writing_type_names_gets_them_replaced(stub, make_llm):
    stub.reply = '{"error": "", "response": {"city": "str", "temperature": 21.5}}'
    simulation = await make_llm(stub.base_url, attempts=2).simulate(_request())
    assert len(stub.requests) == 2  # rejected once, then filled on the last attempt
    assert simulation.reply.response["city"] not in ("str", "")
    assert simulation.reply.response["temperature"] == 21.5

"""Integration: the embedded local model (llama.cpp via xllamacpp, SmolLM2-135M) for real.

The model is far too small to judge quality; these tests check the plumbing:
the server starts, output is constrained to valid replies, replies are cached
and deterministic. They skip when xllamacpp or the model is missing, unless
``TOOLSIM_REQUIRE_LOCAL_MODEL=1`` (set by CI) makes that a failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from support import require_local_model

from toolsim.cache.memory import MemoryBackend
from toolsim.catalog import Catalog
from toolsim.llm.local import LocalModelOptions, LocalModelServer
from toolsim.server import create_app
from toolsim.settings import Settings, SimulatorSettings
from toolsim.simulator.llm import Endpoint, LLMSimulator

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def local_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """One real llama.cpp server for the module's tests."""
    require_local_model()
    server = LocalModelServer(LocalModelOptions(home=tmp_path_factory.mktemp("home"), slots=4))
    try:
        yield server.start()
    finally:
        server.stop()


def _body(api, arguments) -> dict:
    return {
        "category": api.category,
        "tool_name": api.tool_name,
        "api_name": api.name,
        "tool_input": orjson.dumps(arguments).decode(),
        "strip": "",
        "toolbench_key": "",
    }


@pytest.fixture
async def default_client(tmp_path: Path, shared_data: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A server with no simulator configuration at all, on the shared query files."""
    require_local_model()
    queries = shared_data / "stabletoolbench" / "solvable_queries" / "test_instruction"
    app = create_app(Settings(home=tmp_path, tools=[str(queries)]))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=600) as client:
        client.app = app  # type: ignore[attr-defined]
        yield client
    await app.state.service.simulator.aclose()


async def test_default_server_answers_a_never_seen_call_through_the_local_model(
    default_client: httpx.AsyncClient,
) -> None:
    app = default_client.app  # type: ignore[attr-defined]
    service = app.state.service
    assert service.simulator.name == "local"
    group, query_id = next(iter(service.catalog.queries))
    api = service.catalog.query(group, query_id).apis[0]
    body = _body(api, api.default_arguments())

    first = await default_client.post("/virtual", json=body)
    second = await default_client.post("/virtual", json=body)

    assert first.status_code == 200
    reply = first.json()
    assert set(reply) == {"error", "response"} and isinstance(reply["error"], str)
    assert second.json() == reply
    stats = (await default_client.get("/stats")).json()["since_start"]
    assert stats["misses"] == 1 and stats["hits"] == 1
    entry = next(entry for _key, entry in service.backend.items())
    assert entry.simulator == "local" and entry.model == "SmolLM2-135M-Instruct"
    assert entry.prompt_hash == service.simulator.prompts.hash


async def test_openai_backend_against_llama_cpp_is_deterministic_and_constrained(
    local_endpoint: Endpoint, tmp_path: Path
) -> None:
    catalog = Catalog.from_paths(["example"])
    settings = Settings(
        home=tmp_path,
        tools=["example"],
        simulator={
            "backend": "openai",
            "base_url": local_endpoint.base_url,
            "model": local_endpoint.model,
        },
        cache={"mode": "refresh"},
    )
    app = create_app(settings, catalog=catalog, backend=MemoryBackend())
    # The local simulator's own request options, pointed at the module's server.
    app.state.service.simulator.chat.extra_body = {"cache_prompt": False}
    api = next(a for a in catalog if a.name == "Current Weather")
    body = _body(api, {"city": "Lisbon"})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=600
    ) as client:
        replies = [(await client.post("/virtual", json=body)).json() for _ in range(2)]
    await app.state.service.simulator.aclose()
    assert replies[0] == replies[1], "temperature 0 with a fixed seed must repeat itself"
    assert set(replies[0]) == {"error", "response"}
    if not replies[0]["error"]:
        # Constrained decoding follows the documented template's fields.
        assert set(replies[0]["response"]) == set(api.template_response)


async def test_concurrent_distinct_misses_all_get_valid_replies(local_endpoint: Endpoint) -> None:
    simulator = LLMSimulator(
        local_endpoint, options=SimulatorSettings(concurrency=4, max_tokens=256)
    )
    catalog = Catalog.from_paths(["example"])
    api = next(a for a in catalog if a.name == "Current Weather")
    from toolsim.cache.keys import cache_key
    from toolsim.simulator.base import SimulationRequest

    requests = [
        SimulationRequest(api=api, arguments={"city": city}, key=cache_key(api, {"city": city}))
        for city in ("Oslo", "Rome", "Lima", "Pune")
    ]
    try:
        results = await asyncio.gather(*(simulator.simulate(r) for r in requests))
    finally:
        await simulator.aclose()
    assert len(results) == 4
    for result in results:
        assert isinstance(result.reply.error, str)
        assert result.model == local_endpoint.model

"""The upstream relay: real answers are kept, transport failures are never cached."""

from __future__ import annotations

import json

import pytest

from toolsim.cache.entry import Reply, Source
from toolsim.cache.failures import is_real_answer
from toolsim.catalog.models import ApiSpec
from toolsim.errors import UpstreamError
from toolsim.simulator import SimulationRequest
from toolsim.simulator.upstream import UpstreamRelay

API = ApiSpec(category="Weather", tool_name="SkyCast Weather", name="Current Weather")
REQUEST = SimulationRequest(api=API, arguments={"city": "Lisbon", "days": 3}, key="k" * 64)
WEATHER = {"category": "Weather", "tool_name": "SkyCast Weather", "api_name": "Current Weather"}


@pytest.mark.parametrize(
    "reply",
    [
        Reply(error="Rate limit exceeded"),
        Reply(error="", response="Too many requests, slow down"),
        Reply(error="You have exceeded the MONTHLY quota for Requests on your current plan"),
        Reply(error="Unauthorized: invalid API key"),
        Reply(error="403 Forbidden"),
        Reply(error="You are not subscribed to this API."),
        Reply(error="Internal Server Error"),
        Reply(error="502 Bad Gateway"),
        Reply(error="", response="Service Unavailable"),
        Reply(error="request timed out"),
    ],
)
def test_transport_failures_are_not_real_answers(reply):
    assert not is_real_answer(200, reply)


@pytest.mark.parametrize("status", [429, 401, 500, 503])
def test_non_200_is_never_a_real_answer(status):
    assert not is_real_answer(status, Reply(error="", response={"temperature": 20}))


@pytest.mark.parametrize(
    "reply",
    [
        Reply(error="city not found"),
        Reply(error="", response={"temperature": 20, "note": "limit exceeded"}),
        Reply(error="", response="Record temperatures: " + "the old record was exceeded. " * 20),
        Reply(error="", response=""),
        Reply(error="", response=[]),
        Reply(error="Page size exceeded: at most 50 items"),
        Reply(error="", response="Showing 503 results"),
    ],
    ids=[
        "api-error",
        "data-object",
        "long-text",
        "empty",
        "empty-list",
        "api-limit-error",
        "number-in-text",
    ],
)
def test_real_answers(reply):
    assert is_real_answer(200, reply)


@pytest.fixture
async def relay(stub):
    """An UpstreamRelay pointed at the stub's relay endpoint."""
    relay = UpstreamRelay(stub.relay_url, timeout=5, key="secret-key")
    yield relay
    await relay.aclose()


async def test_real_answer_is_relayed(stub, relay):
    stub.relay_body = {"error": "", "response": {"temperature": 20}}

    simulation = await relay.simulate(REQUEST)

    assert simulation.reply == Reply(error="", response={"temperature": 20})
    assert (simulation.source, simulation.simulator) == (Source.REAL, "upstream")
    [sent] = stub.relay_requests
    assert (sent["category"], sent["tool_name"], sent["api_name"]) == tuple(WEATHER.values())
    assert json.loads(sent["tool_input"]) == {"city": "Lisbon", "days": 3}
    assert sent["toolbench_key"] == "secret-key"


async def test_real_api_error_is_relayed(stub, relay):
    stub.relay_body = {"error": "city not found", "response": ""}

    simulation = await relay.simulate(REQUEST)

    assert simulation.reply.error == "city not found"
    assert simulation.source is Source.REAL


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (429, {"error": "Too Many Requests", "response": ""}),
        (429, {"error": "", "response": {"temperature": 20}}),
        (200, {"error": "Rate limit exceeded", "response": ""}),
        (500, ["not", "a", "reply"]),
        (200, ["not", "a", "reply"]),
    ],
    ids=["429", "429-with-data", "rate-limit-message", "500-list", "200-list"],
)
async def test_failures_are_errors(stub, relay, status, body):
    stub.relay_status, stub.relay_body = status, body

    with pytest.raises(UpstreamError, match="upstream relay"):
        await relay.simulate(REQUEST)


async def test_dead_relay_is_an_error(refused_url):
    relay = UpstreamRelay(refused_url.removesuffix("/v1") + "/relay", timeout=5)
    try:
        with pytest.raises(UpstreamError, match="upstream relay failed"):
            await relay.simulate(REQUEST)
    finally:
        await relay.aclose()


async def test_real_answer_through_the_server_skips_the_llm(stub, make_app, connect):
    stub.relay_body = {"error": "", "response": {"temperature": 17}}
    app = make_app(
        simulator={"backend": "auto", "base_url": stub.base_url, "model": "stub-model"},
        upstream={"url": stub.relay_url},
    )
    body = {**WEATHER, "tool_input": json.dumps({"city": "Lisbon"})}

    async with connect(app) as client:
        first = await client.post("/virtual", json=body)
        second = await client.post("/virtual", json=body)

    assert first.json() == second.json() == {"error": "", "response": {"temperature": 17}}
    assert len(stub.relay_requests) == 1  # then a hit
    assert stub.requests == []  # the LLM was never asked
    [(_key, entry)] = list(app.state.service.backend.items())
    assert (entry.source, entry.simulator) == (Source.REAL, "upstream")


async def test_rate_limited_relay_hands_over_to_the_llm(stub, make_app, connect):
    stub.relay_status = 429
    stub.relay_body = {"error": "Too Many Requests", "response": ""}
    app = make_app(
        simulator={"backend": "auto", "base_url": stub.base_url, "model": "stub-model"},
        upstream={"url": stub.relay_url},
    )

    async with connect(app) as client:
        reply = await client.post(
            "/virtual", json={**WEATHER, "tool_input": json.dumps({"city": "Lisbon"})}
        )

    assert reply.json()["error"] == ""
    # With a remote model the chain is relay -> model: the recorded replies are its examples.
    assert len(stub.relay_requests) == len(stub.requests) == 1
    [(_key, entry)] = list(app.state.service.backend.items())
    assert (entry.source, entry.simulator) == (Source.SIMULATED, "openai")
    assert "Too Many Requests" not in json.dumps(entry.reply.model_dump())

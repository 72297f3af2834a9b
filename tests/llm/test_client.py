"""The one OpenAI-compatible client, as every role builds it, against a fault-injecting stub.

Simulator, agent and judge each get their client from their own settings; every
fault must end the same way for all three: the same error type, a message that
says what happened (quoting at most ``ERROR_TEXT_CHARS`` of the server's text),
transient faults re-sent unchanged, a rejected response format stepped down.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from model_stub import OK_REPLY

from toolsim.errors import UpstreamError
from toolsim.llm import (
    ChatRequest,
    Endpoint,
    LLMUnavailable,
    OpenAIChat,
    RequestRejected,
    create_chat_model,
)
from toolsim.llm.client import ERROR_TEXT_CHARS
from toolsim.settings import Settings
from toolsim.simulator import create_simulator

ROLES = ("simulator", "agent", "judge")
TIMEOUT = 1.0
#: Slack allowed past the timeout before the caller must have its error.
MARGIN = 1.0
#: Fast retries (2 re-sends), so fault tests take milliseconds.
RETRIES = {"retry": {"retries": 2, "base": 0.01, "max": 0.05}}

#: Per fault: the error type and what its message must say, and how many requests the stub sees.
FAULTS: dict[str, tuple[type[UpstreamError], str, int]] = {
    "refused": (LLMUnavailable, "cannot reach the model", 0),
    "slow": (UpstreamError, "did not answer within 1 s", 1),
    "500": (UpstreamError, "HTTP 500 (after 2 retries)", 3),
    "429": (UpstreamError, "HTTP 429 (after 2 retries)", 3),
    "html": (UpstreamError, "did not answer with JSON", 1),
    "broken_json": (UpstreamError, "malformed JSON", 1),
}
SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "reply", "schema": {"type": "object"}, "strict": True},
}
REQUEST = ChatRequest(
    messages=({"role": "user", "content": "weather in Lisbon?"},),
    response_format=SCHEMA_FORMAT,
    temperature=0.2,
    seed=7,
)


@pytest.fixture
async def role_client():
    """``make(role, base_url, model=...)``: the OpenAIChat a role builds from its settings."""
    made: list[Any] = []

    async def make(role: str, base_url: str, *, model: str | None = "stub-model") -> OpenAIChat:
        config = {"backend": "openai", "base_url": base_url, "model": model, "timeout": TIMEOUT}
        settings = Settings(**{role: config}, **RETRIES)
        if role == "simulator":
            owner = create_simulator("openai", settings=settings)
            client = owner.chat
        else:
            owner = client = create_chat_model(role, settings, cached=False)
        made.append(owner)
        assert isinstance(client, OpenAIChat)
        return client

    yield make
    for owner in made:
        await owner.aclose()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    # The timeout fault waits out TIMEOUT: a slow test, left out of the fast lane.
    "fault",
    [pytest.param(f, marks=pytest.mark.slow) if f == "slow" else f for f in FAULTS],
)
async def test_every_fault_is_the_same_clear_error_for_every_role(
    role, fault, stub, refused_url, role_client
):
    kind, cause, sent = FAULTS[fault]
    if fault != "refused":
        stub.mode = fault
    client = await role_client(role, refused_url if fault == "refused" else stub.base_url)

    started = time.monotonic()
    with pytest.raises(UpstreamError) as caught:
        await client.complete(REQUEST, deadline=started + TIMEOUT)
    elapsed = time.monotonic() - started

    assert type(caught.value) is kind
    assert cause in caught.value.message
    assert elapsed < TIMEOUT + MARGIN
    assert len(stub.requests) == sent
    if sent > 1:
        # The same request each time: a transient fault never changes what is asked.
        assert stub.requests[1:] == stub.requests[:-1]
        assert caught.value.details["retries"] == sent - 1


@pytest.mark.parametrize("role", ROLES)
async def test_a_valid_reply_and_what_is_sent(role, stub, role_client):
    client = await role_client(role, stub.base_url)

    reply = await client.complete(REQUEST)

    assert reply.content == OK_REPLY and reply.retries == 0
    [sent] = stub.requests
    assert (sent["model"], sent["temperature"], sent["seed"]) == ("stub-model", 0.2, 7)
    assert sent["response_format"] == SCHEMA_FORMAT


async def test_a_server_error_is_quoted_only_so_far(stub, role_client):
    stub.mode = "500"
    stub.error_message = "x" * 5000
    client = await role_client("agent", stub.base_url)

    with pytest.raises(UpstreamError) as caught:
        await client.complete(REQUEST)

    quoted = caught.value.message.split(": ", 1)[1]
    assert "xxx" in quoted and len(quoted) <= ERROR_TEXT_CHARS


@pytest.mark.parametrize("role", ROLES)
async def test_a_rejected_response_format_steps_down_once_for_good(role, stub, role_client):
    stub.mode = "reject_schema"
    client = await role_client(role, stub.base_url)

    first = await client.complete(REQUEST)
    second = await client.complete(REQUEST)

    assert first.content == second.content == OK_REPLY
    kinds = [body["response_format"]["type"] for body in stub.requests]
    assert kinds == ["json_schema", "json_object", "json_object"]
    assert first.retries == 0  # a step-down is not a retry


async def test_a_client_capped_at_none_never_constrains(stub):
    client = OpenAIChat(Endpoint(stub.base_url, "stub-model"), response_format="none")
    try:
        reply = await client.complete(REQUEST)
    finally:
        await client.aclose()
    assert reply.content == OK_REPLY
    assert "response_format" not in stub.requests[0]  # "none": never constrained
    with pytest.raises(ValueError, match="response_format must be one of"):
        OpenAIChat(Endpoint(stub.base_url, "m"), response_format="xml")


async def test_an_unknown_model_name_is_asked_from_the_server_once(stub):
    stub.models = ["discovered-7b", "another"]
    client = OpenAIChat(Endpoint(stub.base_url, ""), name="openai")
    try:
        await client.complete(REQUEST)
        await client.complete(REQUEST)
        endpoint = await client.endpoint()
    finally:
        await client.aclose()
    assert stub.model_listings == 1
    assert endpoint.model == "discovered-7b"
    assert [body["model"] for body in stub.requests] == ["discovered-7b", "discovered-7b"]


async def test_discovery_failures_say_the_model_is_unavailable(stub, refused_url):
    for base_url, cause in ((refused_url, "cannot list models"), (stub.base_url, "no model")):
        stub.models = []
        client = OpenAIChat(Endpoint(base_url, ""), name="openai")
        try:
            with pytest.raises(LLMUnavailable, match=cause):
                await client.complete(REQUEST)
        finally:
            await client.aclose()
    with pytest.raises(ValueError, match="needs an explicit name"):
        OpenAIChat(Endpoint(stub.base_url, ""))


async def test_any_other_bad_request_is_rejected_at_once(stub):
    stub.mode = "bad_request"
    client = OpenAIChat(Endpoint(stub.base_url, "stub-model"))
    try:
        with pytest.raises(RequestRejected, match="rejected the request: .*messages: too long"):
            await client.complete(REQUEST)
    finally:
        await client.aclose()
    assert len(stub.requests) == 1  # neither retried nor stepped down
    assert client.response_format == "json_schema"

"""Concurrent identical misses share one simulation; distinct ones do not."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

WEATHER = {"category": "Weather", "tool_name": "SkyCast Weather", "api_name": "Current Weather"}


def _body(city: str) -> dict[str, Any]:
    return {**WEATHER, "tool_input": {"city": city}}


@pytest.fixture
def gated(app, fake, barrier, connect):
    """Hold every simulation at a gate; requests go through a body-read barrier."""
    fake.gate = asyncio.Event()

    def open_client(expected: int):
        wrapped = barrier(app, expected)
        return wrapped, connect(wrapped)

    return open_client


async def test_identical_misses_share_one_simulation(gated, fake, app):
    waiting, client = gated(20)
    async with client:
        calls = asyncio.gather(*(client.post("/virtual", json=_body("Lisbon")) for _ in range(20)))
        await waiting.ready.wait()  # all 20 have missed and are waiting
        fake.gate.set()
        replies = await calls

    assert len(fake.calls) == 1
    assert {reply.status_code for reply in replies} == {200}
    assert {reply.content for reply in replies} == {replies[0].content}
    assert replies[0].json()["error"] == ""
    assert len(app.state.service.backend) == 1


async def test_distinct_misses_are_not_merged(gated, fake):
    cities = ["Lisbon", "Tokyo", "Nairobi"]
    waiting, client = gated(len(cities))
    async with client:
        calls = asyncio.gather(*(client.post("/virtual", json=_body(city)) for city in cities))
        await waiting.ready.wait()
        await fake.wait_for_calls(len(cities))  # all three simulate at once
        fake.gate.set()
        replies = await calls

    assert sorted(call.arguments["city"] for call in fake.calls) == sorted(cities)
    assert [r.json()["response"]["arguments"]["city"] for r in replies] == cities


async def test_a_shared_failure_reaches_every_waiter_and_is_retried(gated, fake):
    fake.outcomes.append(RuntimeError("boom"))
    waiting, client = gated(5)
    async with client:
        calls = asyncio.gather(*(client.post("/virtual", json=_body("Lisbon")) for _ in range(5)))
        await waiting.ready.wait()
        fake.gate.set()
        failed = await calls
        retried = await client.post("/virtual", json=_body("Lisbon"))

    assert all("boom" in reply.json()["error"] for reply in failed)
    assert retried.json()["error"] == ""
    assert len(fake.calls) == 2


async def test_cancelled_first_caller_does_not_cancel_the_others(gated, fake, app):
    waiting, client = gated(6)
    async with client:
        first = asyncio.ensure_future(client.post("/virtual", json=_body("Lisbon")))
        await fake.wait_for_calls(1)  # the first caller's simulation has started
        others = asyncio.gather(*(client.post("/virtual", json=_body("Lisbon")) for _ in range(5)))
        await waiting.ready.wait()  # the other five wait on that same simulation

        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        fake.gate.set()
        replies = await others

    assert len(fake.calls) == 1
    assert {reply.status_code for reply in replies} == {200}
    assert {reply.content for reply in replies} == {replies[0].content}
    assert replies[0].json()["error"] == ""
    [(_, entry)] = app.state.service.backend.items()
    assert entry.reply.model_dump() == replies[0].json()

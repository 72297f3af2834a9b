"""Two server processes on one Redis: overlapping distinct misses never stall.

Two ``toolsim serve`` replicas share a real ``redis-server``; their simulator is
a model behind a scripted OpenAI-compatible server (every answer takes
``DELAY`` seconds and carries a serial number, so two model calls for one tool
call can never look alike). Sixty distinct calls are each sent to both replicas
at once. Every call must cost one model call, both replicas must give the same
reply, and no call may take more than twice its simulation, while a stored hit
and ``/stats`` keep answering at once meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import statistics
import time
from collections.abc import Awaitable
from typing import Any

import httpx
import pytest
from model_stub import StubControl, stub  # noqa: F401  (fixture)
from support import Server

pytestmark = pytest.mark.slow

CALLS = 60
#: Seconds the scripted model takes over every answer.
DELAY = 3.0
#: A call is a stall when it takes longer than this many times its simulation.
SLOWER_THAN = 2.0


def _body(city: str) -> dict[str, Any]:
    return {
        "category": "Weather",
        "tool_name": "SkyCast Weather",
        "api_name": "Current Weather",
        "tool_input": {"city": city},
    }


def _serial(reply: dict[str, Any]) -> int:
    """Which model answer a reply came from (the stub numbers them)."""
    return int(reply["response"]["temperature"])


async def _timed(request: Awaitable[httpx.Response]) -> tuple[float, httpx.Response]:
    started = time.monotonic()
    reply = await request
    return time.monotonic() - started, reply


@pytest.fixture(params=[4, CALLS], ids=["4-slots", "a-slot-each"])
def replicas(request: pytest.FixtureRequest, stub: StubControl, redis_url: str, tmp_path):  # noqa: F811
    """Two single-worker servers on one Redis prefix, simulating through the stub.

    With 4 model slots per replica (the default) calls queue for the model; with a
    slot per call each call's simulation is the model's answer alone.
    """
    env = {name: value for name, value in os.environ.items() if not name.startswith("TOOLSIM_")}
    env |= {
        "TOOLSIM_HOME": str(tmp_path),
        "TOOLSIM_CACHE__URL": redis_url,
        # The model alone: the auto chain would answer these calls from the example suite's
        # recorded replies (the exemplar simulator) without a model call.
        "TOOLSIM_SIMULATOR__BACKEND": "openai",
        "TOOLSIM_SIMULATOR__BASE_URL": stub.base_url,
        "TOOLSIM_SIMULATOR__MODEL": "stub-model",
        "TOOLSIM_SIMULATOR__CONCURRENCY": str(request.param),
        "TOOLSIM_SERVER__STATS_FLUSH_SECONDS": "0.2",
    }
    stub.delay = DELAY
    stub.replies = [
        json.dumps({"error": "", "response": {"city": "x", "temperature": serial}})
        for serial in range(4 * CALLS)
    ]
    servers = [Server(env, workers=1), Server(env, workers=1)]
    try:
        for server in servers:
            server.start()
        yield servers, request.param
    finally:
        for server in servers:
            server.stop()


async def test_overlapping_distinct_misses_on_two_replicas(
    replicas: tuple[list[Server], int],
    stub: StubControl,  # noqa: F811
) -> None:
    servers, slots = replicas
    # As fast as the model's slots allow (each replica answers `slots` calls at a time),
    # with one round more for 120 requests to arrive on two busy cores.
    schedule = (math.ceil(CALLS / (len(servers) * slots)) + 1) * DELAY
    limits = httpx.Limits(max_connections=4 * CALLS, max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=30 * schedule) as http:
        # One stored reply, to ask for as a hit while the misses are in flight.
        stored = (await http.post(f"{servers[0].base}/virtual", json=_body("Stored"))).json()
        assert stored["error"] == ""
        before = len(stub.requests)

        # The first replica is sent the calls in one order, the second in the other: each
        # soon waits for calls the other simulates (an agent's calls come in any order).
        cities = [f"Overlap {n}" for n in range(CALLS)]
        started = time.monotonic()
        sent = {
            (server.base, city): asyncio.ensure_future(
                _timed(http.post(f"{server.base}/virtual", json=_body(city)))
            )
            for order in zip(cities, reversed(cities), strict=True)
            for server, city in zip(servers, order, strict=True)
        }
        # The model is busy with the misses: a stored hit and /stats must not wait for them.
        await stub.wait_for_requests(before + min(slots, CALLS // 2), timeout=2 * schedule)
        hits = [
            await _timed(http.post(f"{server.base}/virtual", json=_body("Stored")))
            for server in servers
        ]
        stats = [await _timed(http.get(f"{server.base}/stats")) for server in servers]
        await asyncio.gather(*sent.values())
    # The replies in the order (city, replica).
    timed = [sent[server.base, city].result() for city in cities for server in servers]

    replies = [reply.json() for _, reply in timed]
    assert [reply.status_code for _, reply in timed] == [200] * len(timed)
    assert [reply["error"] for reply in replies] == [""] * len(timed)
    # One model call per distinct call, and both replicas answer it alike.
    assert len(stub.requests) - before == CALLS
    for n in range(CALLS):
        assert replies[2 * n] == replies[2 * n + 1], cities[n]
    # No call takes more than twice its simulation (from sending until the model answered
    # it), and all are done within twice what the model's slots need for them.
    simulations = [stub.answered[_serial(reply)] - started for reply in replies]
    walls = [seconds for seconds, _ in timed]
    ratios = [wall / simulation for wall, simulation in zip(walls, simulations, strict=True)]
    assert max(ratios) <= SLOWER_THAN, sorted(ratios)[-5:]
    assert max(walls) <= SLOWER_THAN * schedule
    # A stored hit and /stats never wait behind the simulations.
    assert [reply.json() for _, reply in hits] == [stored, stored]
    assert [reply.status_code for _, reply in stats] == [200, 200]
    assert max(seconds for seconds, _ in hits + stats) < DELAY / 2
    print(
        f"\n{slots} slots: {CALLS} calls x {len(servers)} replicas, {CALLS} model calls, "
        f"identical replies; wall per call median {statistics.median(walls):.2f} s, max "
        f"{max(walls):.2f} s; wall / simulation median {statistics.median(ratios):.2f}, max "
        f"{max(ratios):.2f}; schedule {schedule:.1f} s; hit/stats during the misses max "
        f"{max(seconds for seconds, _ in hits + stats):.3f} s"
    )

"""/healthz and /stats: counters since start and in total, shared through the backend."""

from __future__ import annotations

from typing import Any

import toolsim

WEATHER = {"category": "Weather", "tool_name": "SkyCast Weather", "api_name": "Current Weather"}
FX = "/v1/tools/convertcurrency_for_quick_fx_rates"
WEATHER_FN = "current_weather_for_skycast_weather"
FX_FN = "convertcurrency_for_quick_fx_rates"
EMPTY = {"requests": 0, "hits": 0, "misses": 0, "errors": 0, "by_source": {}, "per_api": {}}


def _weather(city: str | None) -> dict[str, Any]:
    return {**WEATHER, "tool_input": {"city": city} if city else {}}


async def _traffic(client, fake) -> None:
    """Two misses, a hit and an invalid call on Weather; a miss and a failure on FX."""
    await client.post("/virtual", json=_weather("Lisbon"))
    await client.post("/virtual", json=_weather("Lisbon"))
    await client.post("/virtual", json=_weather("Tokyo"))
    await client.post("/virtual", json=_weather(None))
    await client.post(FX, json={"amount": 1, "base": "USD", "target": "EUR"})
    fake.outcomes.append(RuntimeError("boom"))
    await client.post(FX, json={"amount": 2, "base": "USD", "target": "EUR"})


AFTER_TRAFFIC = {
    "requests": 6,
    "hits": 1,
    "misses": 3,
    "errors": 2,
    "by_source": {"simulated": 4},
    "per_api": {
        FX_FN: {"hits": 0, "misses": 1, "errors": 1},
        WEATHER_FN: {"hits": 1, "misses": 2, "errors": 1},
    },
}


async def test_healthz(client):
    reply = await client.get("/healthz")

    assert reply.status_code == 200
    assert reply.json() == {
        "status": "ok",
        "version": toolsim.__version__,
        "apis": 19,
        "mode": "record",
        "simulator": "scripted",
    }


async def test_stats_start_empty(client):
    stats = (await client.get("/stats")).json()

    assert stats["since_start"] == EMPTY
    assert stats["total"] == EMPTY
    assert stats["entries"] == 0
    assert isinstance(stats["started_at"], float)


async def test_stats_count_hits_misses_and_errors_per_api_and_source(client, fake):
    await _traffic(client, fake)

    stats = (await client.get("/stats")).json()

    assert stats["since_start"] == AFTER_TRAFFIC
    assert stats["total"] == AFTER_TRAFFIC
    assert stats["entries"] == 3


async def test_flushed_totals_are_shared_through_the_backend(app, client, fake, make_app, connect):
    await _traffic(client, fake)
    other = make_app()
    async with connect(other) as second:
        before = (await second.get("/stats")).json()
        app.state.service.stats.flush(app.state.service.backend)
        after = (await second.get("/stats")).json()
        await second.post("/virtual", json=_weather("Lisbon"))  # a hit, from disk
        later = (await second.get("/stats")).json()
    mine = (await client.get("/stats")).json()

    assert before["total"] == EMPTY  # unflushed counts stay in their process
    assert after["since_start"] == EMPTY
    assert after["total"] == AFTER_TRAFFIC
    assert mine["since_start"] == mine["total"] == AFTER_TRAFFIC  # nothing counted twice
    assert later["since_start"]["per_api"] == {WEATHER_FN: {"hits": 1, "misses": 0, "errors": 0}}
    assert later["total"]["hits"] == 2
    assert later["total"]["by_source"] == {"simulated": 5}
    assert other.state.service.simulator.calls == []


async def test_flush_twice_does_not_count_twice(app, client, fake):
    await _traffic(client, fake)
    backend = app.state.service.backend

    app.state.service.stats.flush(backend)
    app.state.service.stats.flush(backend)

    assert backend.counters()["requests"] == 6
    assert (await client.get("/stats")).json()["total"] == AFTER_TRAFFIC


async def test_shutdown_flushes_the_counters(make_app, connect):
    app = make_app()
    async with app.router.lifespan_context(app), connect(app) as client:
        await client.post("/virtual", json=_weather("Lisbon"))
    reopened = make_app()

    async with connect(reopened) as client:
        stats = (await client.get("/stats")).json()

    assert stats["total"]["misses"] == 1
    assert stats["since_start"] == EMPTY

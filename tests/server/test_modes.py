"""Cache modes (record, replay, refresh, off) and what gets stored, seen through HTTP."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from toolsim.cache.entry import CacheEntry, Source
from toolsim.settings import Settings

WEATHER = {"category": "Weather", "tool_name": "SkyCast Weather", "api_name": "Current Weather"}
FUNCTION = "/v1/tools/current_weather_for_skycast_weather"


def _body(arguments: dict[str, Any]) -> dict[str, Any]:
    return {**WEATHER, "tool_input": arguments}


def _entries(app) -> list[CacheEntry]:
    return [entry for _, entry in app.state.service.backend.items()]


async def _record(make_app, connect, *calls: dict[str, Any]) -> list[dict[str, Any]]:
    """Record ``calls`` with a record-mode app on the shared home; return the replies."""
    app = make_app(cache={"mode": "record"})
    async with connect(app) as client:
        return [(await client.post("/virtual", json=_body(args))).json() for args in calls]


async def test_record_stores_a_miss_with_provenance(app, client, fake):
    reply = await client.post("/virtual", json=_body({"city": "Lisbon", "units": "metric"}))

    [entry] = _entries(app)
    assert entry.reply.model_dump() == reply.json()
    assert (entry.category, entry.tool, entry.api) == (
        "Weather",
        "skycast_weather",
        "current_weather",
    )
    assert entry.arguments == {"city": "Lisbon", "units": "metric"}
    assert (entry.source, entry.simulator, entry.model) == (Source.SIMULATED, "scripted", "fake")
    assert len(fake.calls) == 1


async def test_replay_answers_hits_without_simulating(make_app, connect):
    [recorded] = await _record(make_app, connect, {"city": "Lisbon"})
    app = make_app(cache={"mode": "replay"})

    async with connect(app) as client:
        reply = await client.post("/virtual", json=_body({"city": "Lisbon"}))
        native = await client.post(FUNCTION, json={"city": "Lisbon"})

    assert reply.status_code == 200
    assert reply.json() == recorded
    assert native.json() == recorded
    assert native.headers["x-toolsim-cached"] == "true"
    assert app.state.service.simulator.calls == []


async def test_replay_miss_names_the_closest_calls_and_what_differs(make_app, connect):
    await _record(
        make_app,
        connect,
        {"city": "Tokyo", "units": "imperial"},
        {"city": "Lisbon", "units": "metric"},
    )
    app = make_app(cache={"mode": "replay"})
    wanted = {"city": "Lisbon", "units": "metric", "lang": "pt"}

    async with connect(app) as client:
        virtual = await client.post("/virtual", json=_body(wanted))
        native = await client.post(FUNCTION, json=wanted)

    assert virtual.status_code == 200
    body = virtual.json()
    assert set(body) == {"error", "response"}
    assert "no recorded reply" in body["error"]
    assert "'Lisbon'" in body["error"]
    assert "differs in: lang" in body["error"]
    assert native.status_code == 404
    error = native.json()["error"]
    assert error["type"] == "cache_miss"
    assert error["details"]["closest"] == [
        {"arguments": {"city": "Lisbon", "units": "metric"}, "differs": ["lang"]},
        {"arguments": {"city": "Tokyo", "units": "imperial"}, "differs": ["city", "lang", "units"]},
    ]
    assert app.state.service.simulator.calls == []
    assert len(app.state.service.backend) == 2


async def test_replay_miss_on_an_api_never_recorded(make_app, connect):
    app = make_app(cache={"mode": "replay"})

    async with connect(app) as client:
        virtual = await client.post("/virtual", json=_body({"city": "Lisbon"}))
        native = await client.post(FUNCTION, json={"city": "Lisbon"})

    assert "nothing recorded" in virtual.json()["error"]
    assert native.status_code == 404
    assert native.json()["error"]["details"]["closest"] == []
    assert app.state.service.simulator.calls == []


async def test_refresh_always_simulates_and_overwrites(make_app, connect):
    [recorded] = await _record(make_app, connect, {"city": "Lisbon"})
    app = make_app(cache={"mode": "refresh"})

    async with connect(app) as client:
        first = (await client.post("/virtual", json=_body({"city": "Lisbon"}))).json()
        second = (await client.post("/virtual", json=_body({"city": "Lisbon"}))).json()

    assert len(app.state.service.simulator.calls) == 2
    assert first["response"]["call"] == 1
    assert second["response"]["call"] == 2
    [entry] = _entries(app)
    assert entry.reply.model_dump() == second
    # A record-mode server now serves the refreshed reply.
    later = make_app(cache={"mode": "record"})
    async with connect(later) as client:
        assert (await client.post("/virtual", json=_body({"city": "Lisbon"}))).json() == second
    assert later.state.service.simulator.calls == []
    assert recorded != second


async def test_off_simulates_every_time_and_stores_nothing(make_app, connect):
    app = make_app(cache={"mode": "off"})

    async with connect(app) as client:
        first = (await client.post("/virtual", json=_body({"city": "Lisbon"}))).json()
        second = (await client.post("/virtual", json=_body({"city": "Lisbon"}))).json()

    assert len(app.state.service.simulator.calls) == 2
    assert first != second
    assert len(app.state.service.backend) == 0
    assert _entries(app) == []


@pytest.mark.parametrize("mode", ["record", "refresh", "off"])
async def test_a_failure_is_never_cached(make_app, connect, mode):
    app = make_app(cache={"mode": mode})
    fake = app.state.service.simulator
    fake.outcomes += [RuntimeError("model server down"), RuntimeError("model server down")]

    async with connect(app) as client:
        virtual = await client.post("/virtual", json=_body({"city": "Lisbon"}))
        assert len(app.state.service.backend) == 0
        native = await client.post(FUNCTION, json={"city": "Lisbon"})
        assert len(app.state.service.backend) == 0
        retried = await client.post("/virtual", json=_body({"city": "Lisbon"}))

    assert virtual.status_code == 200
    assert virtual.json()["response"] == ""
    assert "scripted" in virtual.json()["error"]
    assert "model server down" in virtual.json()["error"]
    assert native.status_code == 502
    assert native.json()["error"]["type"] == "upstream_error"
    assert retried.json() == {"error": "", "response": {"call": 3, "arguments": {"city": "Lisbon"}}}
    assert len(fake.calls) == 3
    assert len(app.state.service.backend) == (0 if mode == "off" else 1)


async def test_a_failed_refresh_keeps_the_stored_reply(make_app, connect):
    [recorded] = await _record(make_app, connect, {"city": "Lisbon"})
    app = make_app(cache={"mode": "refresh"})
    app.state.service.simulator.outcomes.append(RuntimeError("boom"))

    async with connect(app) as client:
        reply = await client.post("/virtual", json=_body({"city": "Lisbon"}))

    assert "boom" in reply.json()["error"]
    [entry] = _entries(app)
    assert entry.reply.model_dump() == recorded


async def test_healthz_reports_the_mode(make_app, connect):
    async with connect(make_app(cache={"mode": "replay"})) as client:
        assert (await client.get("/healthz")).json()["mode"] == "replay"


def test_unknown_mode_is_refused_at_the_edge(tmp_path):
    with pytest.raises(pydantic.ValidationError):
        Settings(home=tmp_path, cache={"mode": "playback"})

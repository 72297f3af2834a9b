"""The /virtual hit path: the full path's replies and headers, exact counts, no stalls."""

from __future__ import annotations

import asyncio
import gc
import threading
from typing import Any

import pytest
from support import WEATHER_CALL

from toolsim.server.app import ready_to_serve
from toolsim.server.timeouts import RequestTimeout
from toolsim.server.virtual import VirtualDoor

CITIES = ("Porto", "Lisbon", "Braga")


def _call(city: str) -> dict[str, Any]:
    return {**WEATHER_CALL, "tool_input": f'{{"city": "{city}"}}'}


def _wire(reply) -> tuple[int, bytes, dict[str, str]]:
    headers = {k: v for k, v in reply.headers.items() if k.startswith(("content-", "x-toolsim"))}
    return reply.status_code, reply.content, headers


async def test_a_hit_from_memory_is_byte_for_byte_the_full_paths_hit(make_app, connect):
    fast, full = make_app(), make_app(server={"memory_entries": 0})  # one cache folder, two servers
    async with connect(fast) as client, connect(full) as plain:
        first = await client.post("/virtual", json=_call("Porto"))
        from_memory = await client.post("/virtual", json=_call("Porto"))
        from_store = await plain.post("/virtual", json=_call("Porto"))

    assert first.headers["x-toolsim-cached"] == "false"
    assert from_memory.headers["x-toolsim-cached"] == "true"
    assert _wire(from_memory) == _wire(from_store)
    assert from_memory.json()["response"] == first.json()["response"]
    assert len(fast.state.service.simulator.calls) == 1


async def test_the_native_route_and_mcp_see_the_same_reply_object(app, client):
    await client.post("/virtual", json=_call("Porto"))
    service = app.state.service
    api = service.catalog.resolve("Weather", "SkyCast Weather", "Current Weather")
    result = await service.call(api, {"city": "Porto"})
    virtual = (await client.post("/virtual", json=_call("Porto"))).json()
    assert result.cached
    assert (result.reply.error, result.reply.response) == (virtual["error"], virtual["response"])


async def test_stats_count_every_hit_exactly(app, client):
    for city in CITIES:
        await client.post("/virtual", json=_call(city))  # misses: simulated and stored
    for _ in range(5):
        for city in CITIES:
            assert (await client.post("/virtual", json=_call(city))).status_code == 200

    since = (await client.get("/stats")).json()["since_start"]
    assert (since["hits"], since["misses"], since["errors"]) == (15, 3, 0)
    assert since["per_api"]["current_weather_for_skycast_weather"]["hits"] == 15
    assert since["by_source"] == {"simulated": 18}

    await app.state.service.counters.flush()
    document = (await client.get("/stats")).json()
    assert document["total"]["hits"] == 15  # all of them now in the store, none counted twice
    assert 'toolsim_tool_calls_total{outcome="hit"} 15' in (await client.get("/metrics")).text


async def test_a_body_in_pieces_still_gets_its_hit(app, client):
    await client.post("/virtual", json=_call("Porto"))

    async def pieces():
        yield b'{"category": "Weather", "tool_name": "SkyCast Weather", '
        yield b'"api_name": "Current Weather", "tool_input": {"city": "Porto"}}'

    reply = await client.post("/virtual", content=pieces())
    assert reply.status_code == 200 and reply.headers["x-toolsim-cached"] == "true"


async def test_errors_still_come_from_the_full_path(app, client):
    await client.post("/virtual", json=_call("Porto"))
    malformed = await client.post("/virtual", content=b"{not json")
    unknown = await client.post("/virtual", json={**_call("Porto"), "tool_name": "Nope"})
    assert malformed.status_code == 400 and "malformed JSON" in malformed.json()["error"]
    assert unknown.status_code == 200 and "unknown tool" in unknown.json()["error"]
    assert (await client.get("/stats")).json()["since_start"]["hits"] == 0


async def test_refresh_mode_never_answers_from_memory(make_app, connect):
    app = make_app(cache={"mode": "refresh"})
    async with connect(app) as client:
        for _ in range(3):
            reply = await client.post("/virtual", json=_call("Porto"))
            assert reply.headers["x-toolsim-cached"] == "false"
    assert len(app.state.service.simulator.calls) == 3


class _ThreadRecordingBackend:
    """Delegates to a backend, recording the thread of every read and counter write."""

    def __init__(self, inner: Any, gate: threading.Event | None = None) -> None:
        self.inner = inner
        self.gate = gate
        self.threads: list[tuple[str, int]] = []

    def get(self, key: str):
        self.threads.append(("get", threading.get_ident()))
        return self.inner.get(key)

    def add_counters(self, deltas: dict[str, int]) -> None:
        self.threads.append(("add_counters", threading.get_ident()))
        if self.gate is not None:
            assert self.gate.wait(10)
        self.inner.add_counters(deltas)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __len__(self) -> int:
        return len(self.inner)


async def test_storage_reads_and_counter_writes_never_run_on_the_event_loop(make_app, connect):
    writer = make_app()
    async with connect(writer) as client:
        await client.post("/virtual", json=_call("Porto"))  # stored
    app = make_app()
    service = app.state.service
    recorder = service.backend = service.counters.backend = _ThreadRecordingBackend(service.backend)
    async with connect(app) as client:
        reply = await client.post("/virtual", json=_call("Porto"))
        await service.counters.flush()
    assert reply.headers["x-toolsim-cached"] == "true"
    loop_thread = threading.get_ident()
    assert [name for name, _ in recorder.threads] == ["get", "add_counters"]
    assert all(thread != loop_thread for _, thread in recorder.threads)


async def test_stats_during_a_slow_flush_are_exact_and_the_loop_keeps_serving(app, client):
    for _ in range(4):
        await client.post("/virtual", json=_call("Porto"))  # 1 miss, 3 hits
    service = app.state.service
    gate = threading.Event()
    service.counters.backend = _ThreadRecordingBackend(service.backend, gate)

    flush = asyncio.create_task(service.counters.flush())
    while not service.counters.backend.threads:
        await asyncio.sleep(0.01)  # the write has begun, in its thread, and is held
    served = await client.post("/virtual", json=_call("Porto"))  # the loop still answers
    stats = asyncio.create_task(client.get("/stats"))
    await asyncio.sleep(0.05)
    assert not stats.done()  # a read waits for the write rather than see half of it
    gate.set()
    await flush
    document = (await stats).json()

    assert served.status_code == 200
    assert document["total"]["hits"] == 4 and document["total"]["misses"] == 1
    assert document["since_start"]["hits"] == 4


async def test_a_failed_flush_keeps_its_counts(app, client):
    await client.post("/virtual", json=_call("Porto"))
    await client.post("/virtual", json=_call("Porto"))
    service = app.state.service

    class Failing(_ThreadRecordingBackend):
        def add_counters(self, deltas: dict[str, int]) -> None:
            raise OSError("disk full")

    service.counters.backend = Failing(service.backend)
    with pytest.raises(OSError):
        await service.counters.flush()
    service.counters.backend = service.backend
    await service.counters.flush()
    assert service.backend.counters()["hits"] == 1 and service.backend.counters()["misses"] == 1


async def test_a_body_that_never_arrives_is_cut_off_by_the_time_limit(app):
    sent: list[dict[str, Any]] = []
    timeouts: list[bool] = []
    limit = RequestTimeout(app.stack, 0.05, on_timeout=lambda: timeouts.append(True))
    front = VirtualDoor(limit, app.state.service, max_body_bytes=1024, limit=limit)

    async def never() -> dict[str, Any]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def record(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/virtual", "headers": []}
    await asyncio.wait_for(front(scope, never, record), 5)
    assert sent[0]["status"] == 504 and timeouts == [True]


def test_ready_to_serve_puts_the_startup_objects_out_of_the_collectors_reach(app):
    try:
        assert ready_to_serve(app) is app
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


@pytest.mark.parametrize(("otel", "through_fastapi"), [(False, 0), (True, 2)])
async def test_virtual_calls_skip_fastapi_unless_telemetry_is_on(
    make_app, connect, otel, through_fastapi
):
    app = make_app(server={"otel": otel})
    limit = app.front.limit if isinstance(app.front, VirtualDoor) else app.front
    reached: list[str] = []
    stack = limit.app

    async def counted(scope, receive, send) -> None:
        reached.append(scope["path"])
        await stack(scope, receive, send)

    limit.app = counted
    async with connect(app) as client:
        first = await client.post("/virtual", json=_call("Porto"))
        second = await client.post("/virtual", json=_call("Porto"))
    assert first.headers["x-toolsim-cached"] == "false"
    assert second.headers["x-toolsim-cached"] == "true"
    assert reached == ["/virtual"] * through_fastapi


async def test_a_first_time_miss_is_parsed_resolved_and_keyed_once(app, client, monkeypatch):
    service = app.state.service
    resolved: list[str] = []
    keyed: list[str] = []
    resolve, key_call = service.catalog.resolve, service.key_call

    def counting_resolve(*names: str):
        resolved.append(names[-1])
        return resolve(*names)

    def counting_key_call(api, arguments):
        keyed.append(api.function_name)
        return key_call(api, arguments)

    monkeypatch.setattr(service.catalog, "resolve", counting_resolve)
    monkeypatch.setattr(service, "key_call", counting_key_call)
    reply = await client.post("/virtual", json=_call("Porto"))
    assert reply.headers["x-toolsim-cached"] == "false"
    assert len(resolved) == 1 and len(keyed) == 1
    again = await client.post("/virtual", json=_call("Porto"))  # a hit from memory
    assert again.headers["x-toolsim-cached"] == "true"
    assert len(resolved) == 1 and len(keyed) == 1

"""Request limits: a time limit per request (504, nothing cached) and a body size limit (413)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from support import FX_ARGS, FX_FUNCTION, WEATHER_CALL

from toolsim.server.timeouts import RequestTimeout

FX = f"/v1/tools/{FX_FUNCTION}"
LIMIT = 1024
BODY_ROUTES = {"/virtual": WEATHER_CALL, FX: FX_ARGS}


@pytest.fixture
def slow_app(make_app):
    """An app with a 0.5 s request limit whose simulator waits until released."""
    app = make_app(server={"request_timeout": 0.5}, simulator={"timeout": 0.25})
    app.state.service.simulator.gate = asyncio.Event()
    return app


@pytest.mark.slow
async def test_a_slow_simulation_gets_504_and_nothing_is_cached(slow_app, connect):
    service = slow_app.state.service
    async with connect(slow_app) as client:
        began = time.monotonic()
        virtual = await client.post("/virtual", json=WEATHER_CALL)
        native = await client.post(FX, json=FX_ARGS)
        elapsed = time.monotonic() - began

        assert virtual.status_code == 504
        assert virtual.json()["response"] == "" and "time limit" in virtual.json()["error"]
        assert native.status_code == 504
        assert native.json()["error"]["type"] == "timeout"
        assert 1.0 <= elapsed < 4.0
        assert len(service.backend) == 0
        assert (await client.get("/healthz")).status_code == 200  # still serving

        # The simulations were not cancelled (others may share them): once they
        # finish, their valid replies are stored and later calls are hits.
        service.simulator.gate.set()
        await asyncio.gather(*list(service._flights.pending()))
        again = await client.post(FX, json=FX_ARGS)
        metrics = (await client.get("/metrics")).text

    assert again.status_code == 200 and again.headers["x-toolsim-cached"] == "true"
    assert "toolsim_request_timeouts_total 2\n" in metrics


async def test_a_response_already_started_is_not_started_again():
    sent: list[dict[str, Any]] = []
    timeouts: list[bool] = []

    async def stalls_mid_body(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        await asyncio.Event().wait()

    async def record(message: dict[str, Any]) -> None:
        sent.append(message)

    limited = RequestTimeout(stalls_mid_body, 0.05, on_timeout=lambda: timeouts.append(True))
    await limited(_scope("/stats"), _no_body, record)

    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert timeouts == [True]


async def test_an_event_stream_may_outlive_the_limit():
    sent: list[dict[str, Any]] = []
    headers = [(b"content-type", b"text/event-stream; charset=utf-8")]

    async def streams(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await asyncio.sleep(0.2)  # four times the limit
        await send({"type": "http.response.body", "body": b"data: done\n\n"})

    async def record(message: dict[str, Any]) -> None:
        sent.append(message)

    await RequestTimeout(streams, 0.05)(_scope("/mcp"), _no_body, record)

    assert sent[-1]["body"] == b"data: done\n\n"


async def test_the_apps_own_timeout_error_is_not_taken_for_the_limit():
    async def fails(scope, receive, send) -> None:
        raise TimeoutError("from inside")

    with pytest.raises(TimeoutError, match="from inside"):
        await RequestTimeout(fails, 10)(_scope("/stats"), _no_body, _ignore)


async def test_only_the_slow_request_is_cut_and_on_time():
    sent: dict[str, list[dict[str, Any]]] = {"/slow": [], "/fast": []}

    async def app(scope, receive, send) -> None:
        if scope["path"] == "/slow":
            await asyncio.Event().wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    def recorder(path: str):
        async def record(message: dict[str, Any]) -> None:
            sent[path].append(message)

        return record

    limited = RequestTimeout(app, 0.2)
    began = time.monotonic()
    await asyncio.gather(
        *(limited(_scope(path), _no_body, recorder(path)) for path in ("/slow", "/fast"))
    )
    elapsed = time.monotonic() - began

    assert sent["/fast"][0]["status"] == 200
    assert sent["/slow"][0]["status"] == 504
    assert 0.2 <= elapsed < 0.2 + 0.02 + 0.5  # the limit, one slot, and scheduling slack


async def test_a_cancellation_from_elsewhere_still_cancels():
    async def waits(scope, receive, send) -> None:
        await asyncio.Event().wait()

    request = asyncio.create_task(RequestTimeout(waits, 10)(_scope("/stats"), _no_body, _ignore))
    await asyncio.sleep(0)  # let the request start waiting
    request.cancel()

    with pytest.raises(asyncio.CancelledError):
        await request


def _scope(path: str) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": path, "headers": []}


async def _no_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _ignore(message: dict[str, Any]) -> None:
    pass


def _padded(body: Any, size: int) -> bytes:
    raw = orjson.dumps(body)
    return raw + b" " * (size - len(raw))


async def _chunked(payload: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(payload), 300):
        yield payload[start : start + 300]


@pytest.mark.parametrize("url", sorted(BODY_ROUTES))
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_bodies_over_the_limit_get_413(make_app, connect, url, declared):
    app = make_app(server={"max_body_bytes": LIMIT})
    payload = _padded(BODY_ROUTES[url], LIMIT + 1)
    async with connect(app) as client:
        content = payload if declared else _chunked(payload)
        reply = await client.post(
            url, content=content, headers={"content-type": "application/json"}
        )
        at_limit = await client.post(
            url,
            content=_padded(BODY_ROUTES[url], LIMIT),
            headers={"content-type": "application/json"},
        )

    assert reply.status_code == 413
    message = reply.json()["error"] if url == "/virtual" else reply.json()["error"]["message"]
    assert f"{LIMIT}-byte limit" in message
    assert at_limit.status_code == 200
    assert app.state.service.simulator.calls[0].arguments == BODY_ROUTES[url].get(
        "tool_input", BODY_ROUTES[url]
    )


def test_only_the_limited_routes_take_a_body(app):
    # Every route that reads a body has a 413 test above (/mcp: in its own tests).
    takes_body = {
        path
        for route in app.routes
        if (path := getattr(route, "path", None))
        and set(getattr(route, "methods", None) or ()) - {"GET", "HEAD"}
    }
    for path, item in app.openapi()["paths"].items():
        if set(item) - {"get", "head"}:
            takes_body.add(path)

    # The episode routes' 413s are in test_error_shape.py (DELETE of an episode reads none).
    episodes = {"/v1/episodes", "/v1/episodes/{episode_id}/verify", "/v1/episodes/{episode_id}"}
    assert takes_body == {"/virtual", "/v1/tools/{function_name}"} | episodes

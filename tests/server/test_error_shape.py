"""One error shape for every native route; the reply shape for every /virtual error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from toolsim.settings import ONE_MIB

FX = "/v1/tools/convertcurrency_for_quick_fx_rates"
FX_ARGS = {"amount": 100, "base": "USD", "target": "EUR"}


@dataclass(frozen=True)
class Bad:
    """A bad request to one route, and the status it must get."""

    route: str
    method: str
    url: str
    status: int
    json: Any = None
    content: bytes | None = None
    #: The body's Content-Type when ``content`` is sent (``json`` sends application/json).
    content_type: str = "application/json"
    mode: str = "record"
    fail: bool = False  # the simulator raises
    params: dict[str, str] = field(default_factory=dict)


NATIVE = [
    Bad("/v1/tools", "GET", "/v1/tools", 404, params={"tools": "Nimbus Weather"}),
    Bad("/v1/tools", "GET", "/v1/tools", 404, params={"group": "example", "query_id": "0"}),
    Bad("/v1/tools", "GET", "/v1/tools", 400, params={"group": "example"}),
    Bad("/v1/tools", "GET", "/v1/tools", 400, params={"tools": "a\x00b"}),
    Bad("/v1/tools", "POST", "/v1/tools", 405, json={}),
    Bad("/v1/tools/{function_name}", "POST", "/v1/tools/teleport_for_x", 404, json={}),
    Bad("/v1/tools/{function_name}", "POST", "/v1/tools/a..b", 400, json={}),
    Bad("/v1/tools/{function_name}", "POST", FX, 422, json={"amount": "lots"}),
    Bad("/v1/tools/{function_name}", "POST", FX, 400, content=b"{not json"),
    Bad("/v1/tools/{function_name}", "POST", FX, 400, json=[FX_ARGS]),
    Bad("/v1/tools/{function_name}", "POST", FX, 413, content=b" " * (ONE_MIB + 1)),
    Bad("/v1/tools/{function_name}", "POST", FX, 415, content=b"{}", content_type="text/plain"),
    Bad("/v1/tools/{function_name}", "POST", FX, 400, json=FX_ARGS, params={"group": "example"}),
    Bad("/v1/tools/{function_name}", "POST", FX, 404, json=FX_ARGS, mode="replay"),
    Bad("/v1/tools/{function_name}", "POST", FX, 502, json=FX_ARGS, fail=True),
    Bad("/v1/tools/{function_name}", "GET", FX, 405),
    Bad("/healthz", "POST", "/healthz", 405),
    Bad("/stats", "DELETE", "/stats", 405),
    Bad("/metrics", "POST", "/metrics", 405),
    Bad("/openapi.json", "POST", "/openapi.json", 405),
    Bad("/docs", "PUT", "/docs", 405),
    Bad("/docs/oauth2-redirect", "POST", "/docs/oauth2-redirect", 405),
    Bad("/redoc", "POST", "/redoc", 405),
    Bad("/v1/episodes", "POST", "/v1/episodes", 400, json={"group": "example"}),
    Bad("/v1/episodes", "POST", "/v1/episodes", 422, json={"seed": -1}),
    Bad("/v1/episodes", "POST", "/v1/episodes", 400, json={"query": "x", "costs": "/etc/x"}),
    Bad("/v1/episodes", "POST", "/v1/episodes", 404, json={"query": "x", "tools": ["Nimbus"]}),
    Bad("/v1/episodes", "POST", "/v1/episodes", 400, content=b"{not json"),
    Bad("/v1/episodes", "POST", "/v1/episodes", 413, content=b" " * (ONE_MIB + 1)),
    Bad("/v1/episodes", "GET", "/v1/episodes", 405),
    Bad("/v1/episodes/{episode_id}", "GET", "/v1/episodes/nope", 404),
    Bad("/v1/episodes/{episode_id}", "GET", "/v1/episodes/a%20b", 422),
    Bad("/v1/episodes/{episode_id}", "DELETE", "/v1/episodes/nope", 404),
    Bad("/v1/episodes/{episode_id}/verify", "POST", "/v1/episodes/nope/verify", 404, json={}),
    Bad(
        "/v1/episodes/{episode_id}/verify",
        "POST",
        "/v1/episodes/nope/verify",
        413,
        content=b" " * (ONE_MIB + 1),
    ),
    Bad("/v1/episodes/{episode_id}/trajectory", "GET", "/v1/episodes/nope/trajectory", 404),
    Bad("/schema", "POST", "/schema", 405),
    Bad("/health", "POST", "/health", 405),
    Bad("/ws", "GET", "/ws", 404),
    Bad("", "GET", "/nowhere", 404),
    Bad("", "GET", "/v1", 404),
    Bad("", "POST", "/virtual/", 404, json={}),
]


def _id(bad: Bad) -> str:
    return f"{bad.method} {bad.url} {bad.status}"


async def _send(make_app, connect, bad: Bad):
    app = make_app(cache={"mode": bad.mode})
    if bad.fail:
        app.state.service.simulator.outcomes.append(RuntimeError("boom"))
    async with connect(app) as client:
        headers = {"content-type": bad.content_type} if bad.content is not None else None
        reply = await client.request(
            bad.method,
            bad.url,
            params=bad.params,
            json=bad.json,
            content=bad.content,
            headers=headers,
        )
        assert (await client.get("/healthz")).status_code == 200  # still serving
    return reply


@pytest.mark.parametrize("bad", NATIVE, ids=_id)
async def test_native_errors_have_one_shape(make_app, connect, bad):
    reply = await _send(make_app, connect, bad)

    assert reply.status_code == bad.status
    assert reply.headers["content-type"] == "application/json"
    body = reply.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"type", "message", "details"}
    assert isinstance(body["error"]["type"], str)
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)


def test_every_route_has_a_bad_request(app):
    # Included routers hide their routes' paths; the OpenAPI document lists them.
    plain = {path for route in app.routes if (path := getattr(route, "path", None))}
    documented = set(app.openapi()["paths"]) - {"/virtual"}
    assert {"/v1/tools/{function_name}", "/docs"} <= plain | documented
    assert plain | documented <= {bad.route for bad in NATIVE}


WEATHER = {"category": "Weather", "tool_name": "SkyCast Weather", "api_name": "Current Weather"}

VIRTUAL = [
    Bad("/virtual", "POST", "/virtual", 400, content=b"{not json"),
    Bad("/virtual", "POST", "/virtual", 400, json=[WEATHER]),
    Bad("/virtual", "POST", "/virtual", 200, json={**WEATHER, "tool_input": "[1, 2]"}),
    Bad("/virtual", "POST", "/virtual", 200, json={**WEATHER, "tool_input": "query=cats"}),
    Bad("/virtual", "POST", "/virtual", 400, json={**WEATHER, "tool_name": "../x"}),
    Bad("/virtual", "POST", "/virtual", 413, content=b" " * (ONE_MIB + 1)),
    Bad("/virtual", "POST", "/virtual", 415, content=b"{}", content_type="text/plain"),
    Bad(
        "/virtual",
        "POST",
        "/virtual",
        415,
        content=b"{}",
        content_type="application/x-www-form-urlencoded",
    ),
    Bad("/virtual", "GET", "/virtual", 405),
    Bad("/virtual", "POST", "/virtual", 200, json={**WEATHER, "tool_name": "Nimbus"}),
    Bad("/virtual", "POST", "/virtual", 200, json={**WEATHER, "api_name": "Pollen"}),
    Bad("/virtual", "POST", "/virtual", 200, json={**WEATHER, "tool_input": "{}"}),
    Bad(
        "/virtual",
        "POST",
        "/virtual",
        200,
        json={**WEATHER, "tool_input": {"city": "Lisbon"}},
        mode="replay",
    ),
    Bad(
        "/virtual",
        "POST",
        "/virtual",
        200,
        json={**WEATHER, "tool_input": {"city": "Lisbon"}},
        fail=True,
    ),
]


@pytest.mark.parametrize("bad", VIRTUAL, ids=_id)
async def test_virtual_errors_keep_the_reply_shape(make_app, connect, bad):
    reply = await _send(make_app, connect, bad)

    assert reply.status_code == bad.status
    assert reply.headers["content-type"] == "application/json"
    body = reply.json()
    assert set(body) == {"error", "response"}
    assert isinstance(body["error"], str)
    assert body["error"]
    assert body["response"] == ""

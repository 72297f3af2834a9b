"""Bearer-token auth: with a token set, every endpoint but /healthz refuses without it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from support import FX_ARGS, FX_FUNCTION, WEATHER_CALL

from toolsim.settings import Settings

TOKEN = "s3cret-t0ken-for-tests"
PARAMS = {"function_name": FX_FUNCTION, "episode_id": "no-such-episode"}
BODIES: dict[str, Any] = {"/virtual": WEATHER_CALL, f"/v1/tools/{FX_FUNCTION}": FX_ARGS}


def endpoints(app: FastAPI) -> list[tuple[str, str]]:
    """(method, url) for every route of ``app``, /virtual, and /mcp when it is served."""
    methods: dict[str, set[str]] = {}
    for route in app.routes:
        if path := getattr(route, "path", None):
            methods.setdefault(path, set()).update(getattr(route, "methods", None) or {"GET"})
    # Included routers hide their routes' paths; the OpenAPI document lists them.
    for path, item in app.openapi()["paths"].items():
        methods.setdefault(path, set()).update(method.upper() for method in item)
    if hasattr(app.state, "mcp"):
        methods.setdefault("/mcp", set()).update({"GET", "POST"})
    found = []
    for path, verbs in sorted(methods.items()):
        url = re.sub(r"\{(\w+)\}", lambda m: PARAMS[m.group(1)], path)
        found += [(verb, url) for verb in sorted(verbs)]
    return found


async def _request(client, method: str, url: str, **headers: str):
    body = BODIES.get(url, {}) if method == "POST" else None
    if url == "/mcp":
        # Not text/event-stream: a GET would open an endless event stream.
        headers["accept"] = "application/json"
    return await client.request(method, url, json=body, headers=headers)


@pytest.fixture
def authed(make_app) -> FastAPI:
    return make_app(server={"auth_token": TOKEN})


def test_the_endpoint_list_is_complete(authed):
    urls = {url for _, url in endpoints(authed)}

    assert {"/virtual", "/v1/tools", f"/v1/tools/{FX_FUNCTION}", "/healthz", "/stats"} <= urls
    assert {"/metrics", "/docs", "/openapi.json", "/redoc"} <= urls


async def test_every_endpoint_but_healthz_needs_the_token(authed, connect):
    fake = authed.state.service.simulator
    async with connect(authed) as client, authed.router.lifespan_context(authed):
        for method, url in endpoints(authed):
            if url == "/healthz":
                continue
            for headers in ({}, {"authorization": "Bearer wrong-" + TOKEN}):
                reply = await _request(client, method, url, **headers)
                assert reply.status_code == 401, (method, url, headers)
                assert reply.headers["www-authenticate"].startswith("Bearer")
                if method != "HEAD":
                    _assert_refusal_shape(url, reply.json())
            reply = await _request(client, method, url, authorization=f"Bearer {TOKEN}")
            assert reply.status_code != 401, (method, url)
        assert (await client.get("/healthz")).status_code == 200
    assert len(fake.calls) == 2  # only the authorized tool calls (/virtual, /v1) simulated


def _assert_refusal_shape(url: str, body: Any) -> None:
    if url == "/virtual":
        assert set(body) == {"error", "response"} and body["response"] == ""
        assert body["error"]
    else:
        assert set(body) == {"error"}
        assert body["error"]["type"] == "unauthorized"
        assert set(body["error"]) == {"type", "message", "details"}


@pytest.mark.parametrize(
    "authorization",
    [
        f"Basic {TOKEN}",
        "Bearer",
        "Bearer ",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer x{TOKEN}",
        TOKEN,
        f"Token {TOKEN}",
    ],
)
async def test_near_misses_are_refused(authed, connect, authorization):
    async with connect(authed) as client:
        reply = await client.get("/stats", headers={"authorization": authorization})

    assert reply.status_code == 401


@pytest.mark.parametrize("url", ["/nowhere", "/healthz/", "//healthz", "/healthz/../stats"])
async def test_unknown_and_lookalike_paths_are_refused(authed, connect, url):
    async with connect(authed) as client:
        reply = await client.get(url)

    assert reply.status_code == 401


async def test_the_scheme_is_case_insensitive(authed, connect):
    async with connect(authed) as client:
        reply = await client.get("/stats", headers={"authorization": f"bearer {TOKEN}"})

    assert reply.status_code == 200


async def test_without_a_token_everything_is_open(app, connect):
    async with connect(app) as client, app.router.lifespan_context(app):
        for method, url in endpoints(app):
            reply = await _request(client, method, url)
            assert reply.status_code != 401, (method, url)


def test_the_token_stays_out_of_reprs(authed):
    settings = authed.state.settings

    assert TOKEN not in repr(settings) and TOKEN not in str(settings)
    assert TOKEN not in repr(authed.user_middleware)


def test_a_blank_token_is_refused_not_ignored():
    with pytest.raises(ValidationError, match="blank"):
        Settings(server={"auth_token": "  "})

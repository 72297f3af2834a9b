"""Safe by default when exposed: JSON bodies only, /mcp origins checked, no credential
in any message, and Redis settings that would lose replies said at start."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
import redis
from support import WEATHER_CALL, free_port
from typer.testing import CliRunner

from toolsim.cache import open_backend
from toolsim.cli import app as cli
from toolsim.server.mcp import origin_allowed

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "0"},
    },
}
MCP_HEADERS = {"accept": "application/json, text/event-stream"}


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None]
)
async def test_a_body_a_web_page_could_send_writes_nothing(make_app, connect, content_type):
    # A page may POST text/plain, a form or an untyped body to any site without asking.
    app = make_app()
    headers = {} if content_type is None else {"content-type": content_type}
    body = httpx.Request("POST", "/", json=WEATHER_CALL).content
    async with connect(app) as client:
        stored = await client.post("/virtual", json=WEATHER_CALL)  # now a hit, if asked as JSON
        refused = await client.post("/virtual", content=body, headers=headers)
        native = await client.post(
            "/v1/tools/current_weather_for_skycast_weather",
            content=b'{"city": "Rome"}',
            headers=headers,
        )
    assert stored.status_code == 200
    assert refused.status_code == 415 and "application/json" in refused.json()["error"]
    assert native.status_code == 415
    assert len(app.state.service.backend) == 1  # only the JSON call was stored
    assert app.state.service.simulator.calls[0].arguments == {"city": "Oslo"}


@pytest.mark.parametrize(
    ("origin", "allowed", "served"),
    [
        (None, [], True),  # not a browser: SDKs and agents send no Origin
        ("http://evil.example", [], False),
        ("http://localhost:6274", ["http://localhost:6274"], True),
        ("http://localhost:6274/", ["http://localhost:6274"], True),
        ("http://localhost:9999", ["http://localhost:*"], True),
        ("http://localhost.evil.example:80", ["http://localhost:*"], False),
        ("https://localhost:6274", ["http://localhost:*"], False),
    ],
)
def test_origin_rule(origin, allowed, served):
    assert origin_allowed(origin, allowed) is served


async def test_mcp_refuses_pages_from_other_origins(make_app, tmp_path: Path):
    app = make_app(hardening={"allowed_origins": "http://localhost:6274"})
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client,
    ):
        foreign = await client.post(
            "/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "origin": "http://evil.example"}
        )
        allowed = await client.post(
            "/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "origin": "http://localhost:6274"}
        )
        no_origin = await client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
    assert foreign.status_code == 403
    assert "TOOLSIM_HARDENING__ALLOWED_ORIGINS" in foreign.json()["error"]["message"]
    assert allowed.status_code == 200 and no_origin.status_code == 200
    assert allowed.json()["result"]["serverInfo"]["name"] == "toolsim"


async def test_no_credential_of_the_simulators_url_reaches_the_agent(make_app, connect, refused):
    secret = "pa55word"
    base_url = refused.replace("http://", f"http://user:{secret}@") + "?api_key=k3y"
    app = make_app(
        simulator={"backend": "openai", "base_url": base_url, "model": "m"},
        retry={"retries": 0},
    )
    async with connect(app) as client:
        reply = await client.post("/virtual", json=WEATHER_CALL)
    error = reply.json()["error"]
    assert "cannot reach the model at http://***@127.0.0.1" in error
    assert secret not in error and "k3y" not in error


@pytest.fixture
def refused() -> str:
    return f"http://127.0.0.1:{free_port()}/v1"


def test_serve_warns_of_redis_settings_that_lose_replies(redis_url: str, tmp_path: Path):
    backend = open_backend(redis_url, tmp_path)
    client = redis.Redis.from_url(redis_url.split("?")[0])
    policy = client.config_get("maxmemory-policy")["maxmemory-policy"]
    try:
        # The test server runs without an append-only file, as an RDB-only server does.
        assert any("appendonly no" in problem for problem in backend.durability_problems())
        client.config_set("maxmemory-policy", "allkeys-lru")
        assert any("allkeys-lru" in problem for problem in backend.durability_problems())
        # At start, before anything else; here the port is taken, so it stops there.
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            result = CliRunner().invoke(
                cli,
                ["serve", "--cache-url", redis_url, "--port", str(port), "--home", str(tmp_path)],
            )
        assert result.exit_code == 1
        assert "warning: Redis at redis://127.0.0.1" in result.output
        assert "appendonly no" in result.output and "allkeys-lru" in result.output
        assert f"cannot listen on 127.0.0.1:{port}" in result.output
        assert "listening" not in result.output
    finally:
        client.config_set("maxmemory-policy", policy)
        client.close()
        backend.close()

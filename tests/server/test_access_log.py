"""The JSON access log: one line per request when enabled, and never a secret."""

from __future__ import annotations

import json
import logging

from support import FX_ARGS, FX_FUNCTION, WEATHER_CALL

TOKEN = "tok-9f8e7d6c5b4a-very-secret"
WRONG = "tok-wrong-but-also-private"


def _access_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "toolsim.access"]


async def test_one_json_line_per_request(make_app, connect, caplog):
    caplog.set_level(logging.INFO)
    app = make_app(server={"access_log": True})
    async with connect(app) as client:
        await client.post(f"/v1/tools/{FX_FUNCTION}", json=FX_ARGS)
        await client.post("/virtual", json=WEATHER_CALL)
        await client.get("/nowhere")

    lines = _access_lines(caplog)
    assert [(line["method"], line["path"], line["status"]) for line in lines] == [
        ("POST", f"/v1/tools/{FX_FUNCTION}", 200),
        ("POST", "/virtual", 200),
        ("GET", "/nowhere", 404),
    ]
    assert lines[0]["function"] == FX_FUNCTION
    assert all(line["duration_ms"] >= 0 for line in lines)


async def test_off_by_default(app, connect, caplog):
    caplog.set_level(logging.DEBUG)
    async with connect(app) as client:
        await client.get("/healthz")

    assert _access_lines(caplog) == []


async def test_no_token_or_header_ever_reaches_the_logs(make_app, connect, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, every level
    app = make_app(server={"access_log": True, "auth_token": TOKEN})
    app.state.service.simulator.outcomes.append(RuntimeError("boom"))  # an error path too
    async with connect(app) as client:
        for token in (TOKEN, WRONG):
            headers = {"authorization": f"Bearer {token}"}
            await client.post("/virtual", json=WEATHER_CALL, headers=headers)
            await client.post(f"/v1/tools/{FX_FUNCTION}", json=FX_ARGS, headers=headers)
            await client.get("/stats", headers=headers)
            await client.get(f"/metrics?token={token}", headers=headers)
        await client.get("/stats")

    statuses = [line["status"] for line in _access_lines(caplog)]
    assert statuses == [200, 200, 200, 200, 401, 401, 401, 401, 401]
    server_side = [r for r in caplog.records if not r.name.startswith("httpx")]  # not the client
    assert server_side
    for record in server_side:
        logged = record.getMessage() + repr(record.__dict__)
        assert TOKEN not in logged and WRONG not in logged
        assert "Bearer" not in logged and "authorization" not in logged.lower()

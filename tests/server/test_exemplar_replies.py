"""Misses answered from recorded replies: the README's first call, headers and /stats."""

from __future__ import annotations

import json
from pathlib import Path

from toolsim.server import create_app
from toolsim.settings import Settings

#: The README's first curl, as it is written there.
README_CALL = {
    "category": "Weather",
    "tool_name": "SkyCast Weather",
    "api_name": "Current Weather",
    "tool_input": json.dumps({"city": "Oslo"}),
}


async def test_the_readme_call_gets_a_plausible_reply_without_any_model(
    tmp_path: Path, connect
) -> None:
    # The default server: example suite, auto simulator (exemplars before the local model).
    app = create_app(Settings(home=tmp_path, cache={"url": "memory://"}))
    try:
        async with connect(app) as client:
            first = await client.post("/virtual", json=README_CALL)
            second = await client.post("/virtual", json=README_CALL)
            stats = (await client.get("/stats")).json()["since_start"]
    finally:
        await app.state.service.simulator.aclose()
    reply = first.json()
    assert first.status_code == 200 and reply["error"] == ""
    weather = reply["response"]
    assert weather["city"] == "Oslo"
    # Nothing the recorded call said about its own city (Lisbon, PT) is kept for Oslo.
    assert "Lisbon" not in json.dumps(weather) and weather.get("country") != "PT"
    assert isinstance(weather["temperature"], float) and weather["units"] == "metric"
    assert first.headers["x-toolsim-source"] == "adapted"
    assert second.json() == reply and second.headers["x-toolsim-cached"] == "true"
    assert stats["by_source"] == {"adapted": 2}  # the miss, then its hit
    # The local model was never started for it.
    assert app.state.service.simulator.llm.server._endpoint is None

"""Seeded fault and latency profiles: the configured rates, the same faults under the same
seed, never cached, realistic on every door, counted in /stats."""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from toolsim.catalog import Catalog
from toolsim.errors import InjectedFault, UserError
from toolsim.server import create_app
from toolsim.server.faults import FaultInjector, FaultProfile, load_profile
from toolsim.settings import Settings

WEATHER = "current_weather_for_skycast_weather"


def _profile(tmp_path: Path, document: dict[str, Any], name: str = "faults.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document))
    return path


def _app(tmp_path: Path, profile: Path, seed: int = 7, **more: Any) -> Any:
    return create_app(
        Settings(
            home=tmp_path / "home",
            tools=["example"],
            faults={"profile": profile, "seed": seed},
            **more,
            simulator={"backend": "schema"},
            cache={"url": "memory://"},
        )
    )


async def _outcomes(app: Any, cities: list[str]) -> list[str]:
    """Each call's outcome through the service: the fault's kind, or "ok"."""
    service = app.state.service
    api = service.catalog.by_function(WEATHER)
    outcomes = []
    for city in cities:
        try:
            await service.call(api, {"city": city})
            outcomes.append("ok")
        except InjectedFault as fault:
            outcomes.append(fault.kind)
    return outcomes


async def test_measured_fault_rates_match_the_configured_ones(tmp_path: Path):
    profile = _profile(
        tmp_path, {"default": {"error_rate": 0.10, "rate_limit_rate": 0.05, "timeout_rate": 0.0}}
    )
    n = 4000
    outcomes = await _outcomes(_app(tmp_path, profile), [f"city {i}" for i in range(n)])
    for kind, rate in (("server_error", 0.10), ("rate_limit", 0.05)):
        measured = outcomes.count(kind) / n
        # Within 4 binomial standard errors (a false failure about once in 16,000 runs).
        assert abs(measured - rate) < 4 * math.sqrt(rate * (1 - rate) / n), (kind, measured)


async def test_the_same_seed_gives_the_same_faults_and_another_seed_others(tmp_path: Path):
    profile = _profile(tmp_path, {"default": {"error_rate": 0.3}})
    cities = [f"city {i % 40}" for i in range(200)]  # repeated calls: hits are faulted too
    first = await _outcomes(_app(tmp_path / "a", profile, seed=1), cities)
    again = await _outcomes(_app(tmp_path / "b", profile, seed=1), cities)
    other = await _outcomes(_app(tmp_path / "c", profile, seed=2), cities)
    assert first == again
    assert first != other
    assert 0 < first.count("server_error") < len(cities)


async def test_faults_are_never_cached(tmp_path: Path):
    profile = _profile(tmp_path, {"default": {"error_rate": 0.5}})
    app = _app(tmp_path, profile)
    service = app.state.service
    outcomes = await _outcomes(app, [f"city {i}" for i in range(60)])
    # Only calls that were answered are stored; a faulted call is not.
    assert len(service.backend) == outcomes.count("ok") < 60
    stats = service.stats.document({}, len(service.backend))["since_start"]
    assert stats["faults"] == outcomes.count("server_error")
    assert stats["misses"] == outcomes.count("ok")
    assert stats["requests"] == 60


async def test_each_door_answers_a_fault_as_a_real_api_would(tmp_path: Path):
    profile = _profile(tmp_path, {"apis": {WEATHER: {"rate_limit_rate": 1.0, "retry_after": 4}}})
    app = _app(tmp_path, profile)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        native = await client.post(f"/v1/tools/{WEATHER}", json={"city": "Oslo"})
        stb = await client.post(
            "/virtual",
            json={
                "category": "Weather",
                "tool_name": "SkyCast Weather",
                "api_name": "Current Weather",
                "tool_input": {"city": "Oslo"},
            },
        )
        other = await client.post("/v1/tools/stock_quote_for_market_pulse", json={"symbol": "X"})
        stats = (await client.get("/stats")).json()
    assert native.status_code == 429 and native.headers["retry-after"] == "4"
    assert native.json()["error"]["type"] == "injected_fault"
    assert native.json()["error"]["details"]["body"] == {
        "message": "Too many requests: rate limit exceeded; retry after 4 s"
    }
    # StableToolBench's protocol answers every tool-level outcome with HTTP 200.
    assert stb.status_code == 200
    assert stb.headers["retry-after"] == "4" and stb.headers["x-toolsim-source"] == "fault"
    assert stb.json()["error"].startswith("HTTP 429: Too many requests")
    assert other.status_code == 200  # another API keeps the default: no faults
    assert stats["since_start"]["faults_by_kind"] == {"rate_limit": 2}
    assert stats["fault_profile"]["seed"] == 7
    assert len(stats["fault_profile"]["sha256"]) == 64


async def test_a_timeout_waits_then_answers_504(tmp_path: Path):
    profile = _profile(tmp_path, {"default": {"timeout_rate": 1.0, "timeout_seconds": 0.01}})
    outcomes = await _outcomes(_app(tmp_path, profile), ["Oslo"])
    assert outcomes == ["timeout"]


def test_latency_draws_follow_the_configured_median_and_p95():
    profile = FaultProfile.model_validate(
        {"default": {"latency": {"median_ms": 200, "p95_ms": 1000}}}
    )
    injector = FaultInjector(profile, seed=3)
    api = Catalog.from_paths(["example"]).by_function(WEATHER)
    delays = sorted(injector.draw(api, f"{i:064x}").delay for i in range(4000))
    assert statistics.median(delays) == pytest.approx(0.200, rel=0.06)
    assert delays[int(0.95 * len(delays))] == pytest.approx(1.000, rel=0.12)


def test_a_bad_profile_is_an_error_naming_the_file_and_the_field(tmp_path: Path):
    bad = _profile(tmp_path, {"default": {"error_rate": 0.8, "timeout_rate": 0.5}}, "bad.yaml")
    with pytest.raises(UserError, match=r"bad.yaml is invalid: default: .*must not exceed 1"):
        load_profile(bad)
    unknown = _profile(tmp_path, {"defaults": {}}, "typo.yaml")
    with pytest.raises(UserError, match=r"typo.yaml is invalid: defaults: Extra inputs"):
        load_profile(unknown)
    with pytest.raises(UserError, match="cannot read the fault profile"):
        load_profile(tmp_path / "missing.yaml")

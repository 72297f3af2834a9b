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
from support import WEATHER_CALL, fault_outcomes

from toolsim.catalog import Catalog
from toolsim.errors import UserError
from toolsim.server import create_app
from toolsim.server.faults import FaultInjector, FaultProfile, load_profile
from toolsim.settings import Settings

WEATHER = "current_weather_for_skycast_weather"


def _profile(tmp_path: Path, document: dict[str, Any], name: str = "faults.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document))
    return path


def _app(
    tmp_path: Path,
    profile: Path,
    seed: int = 7,
    faults_session: str | None = None,
    cache_url: str = "memory://",
    **more: Any,
) -> Any:
    return create_app(
        Settings(
            home=tmp_path / "home",
            tools=["example"],
            faults={"profile": profile, "seed": seed, "session": faults_session},
            **more,
            simulator={"backend": "schema"},
            cache={"url": cache_url},
        )
    )


async def _outcomes(app: Any, cities: list[str]) -> list[str]:
    """Each weather call's outcome through the service: the fault's kind, or "ok"."""
    return await fault_outcomes(app, WEATHER, [{"city": city} for city in cities])


async def _alternating(workers: list[Any], cities: list[str], rounds_of: int = 12) -> list[str]:
    """The outcomes when round r of the calls goes to worker r % 2 (a call's occurrences
    alternate between the workers)."""
    outcomes = []
    for i, city in enumerate(cities):
        outcomes += await _outcomes(workers[i // rounds_of % len(workers)], [city])
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


@pytest.mark.parametrize("store", ["disk", "redis"])
async def test_workers_sharing_a_store_meet_the_faults_one_process_would(
    tmp_path: Path, store: str, request: pytest.FixtureRequest
):
    url = request.getfixturevalue("redis_url") if store == "redis" else f"disk://{tmp_path}/shared"
    profile = _profile(tmp_path, {"default": {"error_rate": 0.4, "rate_limit_rate": 0.2}})
    cities = [f"city {i % 12}" for i in range(120)]  # ten rounds of twelve calls
    alone = await _outcomes(_app(tmp_path / "alone", profile), cities)

    def worker() -> Any:  # another process of one server: same store, same session
        return _app(tmp_path / "w", profile, cache_url=url, faults_session="run 1")

    workers = [worker(), worker()]
    assert workers[0].state.service.faults.numbering() == {
        "session": "run 1",
        "occurrences": "store",
    }
    assert await _alternating(workers, cities) == alone
    # The same server started again (a new session on the same store) meets them again.
    again = await _outcomes(
        _app(tmp_path / "w", profile, cache_url=url, faults_session="run 2"), cities
    )
    assert again == alone

    # Numbered per process instead, the workers would disagree with one process.
    from toolsim.server.faults import LocalOccurrences

    for app in workers:
        app.state.service.faults.occurrences = LocalOccurrences()
    per_process = [
        (await _outcomes(workers[i // 12 % 2], [city]))[0] for i, city in enumerate(cities)
    ]
    assert per_process != alone


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
        stb = await client.post("/virtual", json=WEATHER_CALL)
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
    # One process, no session: it numbers each call's occurrences itself.
    assert stats["fault_profile"]["session"] is None
    assert stats["fault_profile"]["occurrences"] == "process"


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
    delays = sorted(injector.draw(api, f"{i:064x}", 0).delay for i in range(4000))
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


def test_names_the_catalog_does_not_have_are_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    profile = _profile(
        tmp_path,
        {
            "tools": {"SkyCast Weather": {"error_rate": 0.1}, "Sky Cast": {}},
            "apis": {WEATHER: {}, "Current Weather": {}},
        },
        "typos.yaml",
    )
    with caplog.at_level("WARNING", logger="toolsim.server"):
        _app(tmp_path, profile)
    (warning,) = [r.getMessage() for r in caplog.records if "fault profile" in r.getMessage()]
    assert "typos.yaml names what the catalog does not have" in warning
    assert warning.split(": ", 1)[1].startswith("tools.Sky Cast, apis.Current Weather (")

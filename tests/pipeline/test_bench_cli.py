"""``toolsim bench`` from the command line, with the scripted backends of conftest.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolsim.cli import app
from toolsim.pipeline.bench import (
    EMBEDDED_EXAMPLE_IDS,
    EMBEDDED_LIMITS,
    bench_limits,
    bench_query_ids,
)
from toolsim.settings import Settings


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "TOOLSIM_HOME": str(tmp_path / "home"),
        "TOOLSIM_AGENT__BACKEND": "pipeline-agent",
        "TOOLSIM_JUDGE__BACKEND": "pipeline-judge",
        "TOOLSIM_SIMULATOR__BACKEND": "pipeline-sim",
    }


def _bench(env: dict[str, str], *args: str):
    return CliRunner().invoke(app, ["bench", *args], env=env)


def test_bench_prints_the_summary_and_the_report_path(env, tmp_path: Path):
    out = tmp_path / "bench"
    result = _bench(env, "--query-ids", "1,2", "--out", str(out), "--check-determinism")

    assert result.exit_code == 0, result.output
    assert "cot-none" in result.output and "cot-btp" in result.output
    assert "deterministic:" in result.output
    assert str(out / "report.html") in result.output.replace("\n", "")
    bench = json.loads((out / "bench.json").read_text())
    assert [row["combination"] for row in bench["combinations"]] == ["cot-none", "cot-btp"]
    assert bench["determinism"]["passed"] is True
    # the defaults: budget 20 with prices drawn per function from seed 1
    manifest = json.loads((out / "runs" / "cot-btp" / "run.json").read_text())
    assert manifest["budget"] == 20 and manifest["costs"]["seed"] == 1


def test_unknown_names_fail_before_anything_runs(env, tmp_path: Path):
    result = _bench(env, "--planners", "none,magic", "--out", str(tmp_path / "bench"))
    assert result.exit_code == 1
    assert "unknown planner 'magic'" in result.output
    assert not (tmp_path / "bench").exists()


def test_a_planner_that_needs_a_budget_refuses_no_budget(env, tmp_path: Path):
    result = _bench(env, "--no-budget", "--query-ids", "1", "--out", str(tmp_path / "bench"))
    assert result.exit_code == 1
    assert "needs a budget" in result.output


def test_bad_costs_are_a_clear_error(env, tmp_path: Path):
    result = _bench(env, "--costs", "seed:x", "--out", str(tmp_path / "bench"))
    assert result.exit_code == 1
    assert "bad cost spec 'seed:x'" in result.output


def test_the_embedded_model_gets_smaller_limits_unless_told_otherwise(tmp_path: Path):
    local = Settings(home=tmp_path)
    remote = Settings(home=tmp_path, agent={"base_url": "http://gpu:8000/v1", "model": "m"})

    assert bench_limits(local, None, 2, None).max_steps == EMBEDDED_LIMITS["max_steps"]
    assert bench_limits(local, None, 2, None).max_tokens == EMBEDDED_LIMITS["max_tokens"]
    assert bench_limits(local, 9, 3, 50).max_steps == 9
    assert bench_limits(local, 9, 3, 50).max_model_calls == 50
    assert bench_limits(remote, None, 2, None).max_steps == 12
    assert bench_limits(remote, None, 2, None).max_model_calls == 200


def test_the_embedded_model_runs_the_quick_half_of_the_example_suite(tmp_path: Path):
    local = Settings(home=tmp_path)
    remote = Settings(home=tmp_path, agent={"base_url": "http://gpu:8000/v1", "model": "m"})

    quick = bench_query_ids(local, ["example"], [], full=False)
    assert quick == list(EMBEDDED_EXAMPLE_IDS) and len(quick) == 10
    assert bench_query_ids(local, ["example"], [], full=True) == []  # [] = every query
    assert bench_query_ids(local, ["example"], ["4"], full=False) == ["4"]
    assert bench_query_ids(local, ["G1_instruction.json"], [], full=False) == []
    assert bench_query_ids(remote, ["example"], [], full=False) == []


def test_the_quick_half_still_uses_every_example_tool():
    from toolsim.catalog import Catalog

    catalog = Catalog.from_paths(["example"])
    every = {api.tool_name for query in catalog.queries.values() for api in query.apis}
    quick = {
        api.tool_name
        for query_id in EMBEDDED_EXAMPLE_IDS
        for api in catalog.query("example", query_id).apis
    }
    assert quick == every

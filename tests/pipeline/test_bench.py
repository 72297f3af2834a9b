"""``toolsim bench``: every combination runs, is evaluated and reported; reruns cost nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from toolsim.errors import UserError
from toolsim.pipeline import BenchConfig, combinations, run_bench
from toolsim.pipeline.bench import replay_and_compare
from toolsim.pipeline.determinism import compare
from toolsim.settings import Settings

QUERIES = ("1", "2", "3")


def _config(out: Path, **options) -> BenchConfig:
    options.setdefault("agents", ("cot", "dfsdt"))
    options.setdefault("planners", ("none", "btp"))
    return BenchConfig(suite=("example",), out=out, query_ids=QUERIES, **options)


async def test_every_combination_is_run_evaluated_and_reported(settings: Settings, tmp_path):
    result = await run_bench(_config(tmp_path / "bench"), settings)

    labels = ["cot-none", "cot-btp", "dfsdt-none", "dfsdt-btp"]
    assert [c.label for c in result.combinations] == labels
    for label in labels:
        records = list((tmp_path / "bench" / "runs" / label / "records").rglob("*.json"))
        assert len(records) == len(QUERIES)
        entry = result.pass_rate.entry(label)
        # the scripted judge solves answers that saw a tool reply: every query here
        assert entry.overall.mean == 100.0
        assert entry.budget is not None and entry.budget.ac is not None
    assert [w.candidate for w in result.win_rates] == labels[1:]
    assert all(w.reference == "cot-none" for w in result.win_rates)

    bench = json.loads((tmp_path / "bench" / "bench.json").read_text())
    assert [row["combination"] for row in bench["combinations"]] == labels
    # Scripted models never fail: retries are reported, and zero.
    assert all(row["model_retries"] == 0 for row in bench["combinations"])
    assert bench["judge_retries"] == {"model_retries": 0, "model_retry_seconds": 0.0}
    page = (tmp_path / "bench" / "report.html").read_text()
    assert "<h2>Summary</h2>" in page and all(label in page for label in labels)
    summary = (tmp_path / "bench" / "summary.csv").read_text().splitlines()
    assert len(summary) == 1 + len(labels)
    assert len(json.loads((tmp_path / "bench" / "win_rate.json").read_text())) == 3


async def test_a_second_bench_resumes_and_asks_no_model(settings: Settings, tmp_path, counts):
    config = _config(tmp_path / "bench", agents=("cot",))
    first = await run_bench(config, settings)
    assert counts.agent and counts.judge and counts.simulator
    counts.agent = counts.judge = counts.simulator = 0

    again = await run_bench(config, settings)

    assert (counts.agent, counts.judge, counts.simulator) == (0, 0, 0)
    assert all(run.skipped == run.total for run in again.runs.values())
    assert again.pass_rate.judge.calls == 0
    # the whole run is reported, not just what this invocation did
    assert again.summary_rows() == first.summary_rows()


async def test_check_determinism_passes_on_a_repeatable_pipeline(settings: Settings, tmp_path):
    config = _config(tmp_path / "bench", agents=("cot",), planners=("none",))
    result = await run_bench(config, settings, check_determinism=True)

    assert result.determinism is not None
    assert result.determinism.passed, result.determinism.differences
    assert result.determinism.compared == len(QUERIES)
    for number in (1, 2):
        replayed = tmp_path / "bench" / "determinism" / f"replay-{number}" / "runs" / "cot-none"
        assert len(list((replayed / "records").rglob("*.json"))) == len(QUERIES)
    saved = json.loads((tmp_path / "bench" / "determinism.json").read_text())
    assert saved["passed"] is True


async def test_check_determinism_names_what_changed(settings: Settings, tmp_path, counts):
    config = _config(tmp_path / "bench", agents=("cot",), planners=("none",))
    result = await run_bench(config, settings)
    # Forget the agent's cached replies and make the model answer differently:
    # exactly what a non-repeatable agent would do on a replay.
    shutil.rmtree(settings.home / "llm-cache")
    counts.answers_suffix = " (changed)"

    check = await replay_and_compare(config, settings, result, replays=1)

    assert not check.passed
    assert len(check.differences) == len(QUERIES)
    assert all("final answer differ" in line for line in check.differences)
    assert check.differences[0].startswith("replay 1: cot-none/example/1:")


async def test_replays_never_simulate(settings: Settings, tmp_path, counts):
    config = _config(tmp_path / "bench", agents=("cot",), planners=("none",))
    result = await run_bench(config, settings)
    counts.simulator = 0
    check = await replay_and_compare(config, settings, result, replays=1)
    assert check.passed and counts.simulator == 0


def test_combinations_are_checked_before_anything_runs():
    assert [c.label for c in combinations(["cot"], ["none", "btp"])] == ["cot-none", "cot-btp"]
    with pytest.raises(UserError, match="unknown agent 'react'; available: cot, dfsdt"):
        combinations(["react"], ["none"])
    with pytest.raises(UserError, match="unknown planner 'magic'; available: .*btp"):
        combinations(["cot"], ["magic"])
    with pytest.raises(UserError, match="planners listed twice: btp"):
        combinations(["cot"], ["btp", "btp"])
    with pytest.raises(UserError, match="give at least one agent"):
        combinations([" "], ["none"])


async def test_the_learned_judge_is_the_default_and_a_rerun_calls_no_judge(tmp_path, counts):
    settings = Settings(
        home=tmp_path / "home",
        agent={"backend": "pipeline-agent"},
        simulator={"backend": "pipeline-sim"},
    )
    config = _config(tmp_path / "bench", agents=("cot",))
    first = await run_bench(config, settings)
    judge = first.pass_rate.judge
    assert judge.model == "learned" and judge.identity.backend == "learned"
    assert counts.judge == 0 and judge.calls == 0 and counts.agent > 0
    counts.agent = counts.simulator = 0

    again = await run_bench(config, settings)

    assert (counts.agent, counts.judge, counts.simulator) == (0, 0, 0)
    assert again.pass_rate.judge.calls == 0
    assert again.summary_rows() == first.summary_rows()
    assert json.loads((tmp_path / "bench" / "bench.json").read_text())["noise_floor"] is not None


async def test_tool_productivity_and_cost_per_solved_query(settings: Settings, tmp_path):
    result = await run_bench(_config(tmp_path / "bench", agents=("cot",)), settings)
    for row in result.summary_rows():
        # the scripted judge solves every query here
        assert row["solved_queries"] == len(QUERIES)
        assert row["tool_productivity"] == pytest.approx(len(QUERIES) / row["tool_calls"], abs=1e-4)
        assert row["cost_per_solved"] == pytest.approx(row["cost"] / len(QUERIES), abs=0.01)
    summary = (tmp_path / "bench" / "summary.csv").read_text().splitlines()[0]
    assert "solved per tool call" in summary and "cost per solved query" in summary


async def test_the_bench_reports_world_consistency_and_world_check_runs_on_it(
    settings: Settings, tmp_path
):
    from typer.testing import CliRunner

    from toolsim.cli import app

    result = await run_bench(_config(tmp_path / "bench", agents=("cot",)), settings)
    assert set(result.world) == {"cot-none", "cot-btp"}
    assert all(report.queries == len(QUERIES) for report in result.world.values())
    bench = json.loads((tmp_path / "bench" / "bench.json").read_text())
    assert set(bench["world_consistency"]) == {"cot-none", "cot-btp"}
    assert "World consistency" in (tmp_path / "bench" / "report.html").read_text()
    checked = CliRunner().invoke(app, ["world", "check", str(tmp_path / "bench/runs/cot-btp")])
    assert checked.exit_code == 0, checked.output
    assert "cot-btp: world consistency" in checked.output


def test_a_reply_that_changed_after_a_failure_says_so():
    failed = json.dumps({"error": "the model did not answer within 120 s", "response": ""})
    stored = json.dumps({"error": "", "response": {"temp": 18.3}})
    key = ("cot-none", "example", "17")
    first = {key: {"tool calls": [("forecast", {"city": "Austin"}, failed)]}}
    replay = {key: {"tool calls": [("forecast", {"city": "Austin"}, stored)]}}

    (line,) = compare(first, replay, "replay 1")

    assert "call 1: the reply changed, forecast" in line
    assert "the model did not answer within 120 s" in line and "never cached" in line


def test_a_reply_that_changed_after_a_success_is_not_blamed_on_a_failure():
    key = ("cot-none", "example", "17")
    first = {key: {"tool calls": [("forecast", {}, json.dumps({"error": "", "response": 1}))]}}
    replay = {key: {"tool calls": [("forecast", {}, json.dumps({"error": "", "response": 2}))]}}

    (line,) = compare(first, replay, "replay 1")

    assert "the reply changed" in line and "never cached" not in line


async def test_a_fault_profile_is_recorded_and_its_faults_counted(settings: Settings, tmp_path):
    profile = tmp_path / "faults.yaml"
    profile.write_text("default: {error_rate: 1.0}\n")
    faulty = settings.model_copy(
        update={"faults": settings.faults.model_copy(update={"profile": profile, "seed": 5})}
    )
    result = await run_bench(
        _config(tmp_path / "bench", agents=("cot",), planners=("none",)), faulty
    )

    bench = json.loads((tmp_path / "bench" / "bench.json").read_text())
    assert bench["faults"]["seed"] == 5 and len(bench["faults"]["sha256"]) == 64
    (row,) = bench["combinations"]
    # Every call failed on purpose: each was counted, none answered.
    assert row["tool_calls"] >= len(QUERIES)
    assert row["tool_faults"] == row["tool_calls"]
    page = (tmp_path / "bench" / "report.html").read_text()
    assert f"cot-none: {row['tool_faults']} of {row['tool_calls']} tool calls" in page
    assert result.faults == bench["faults"]

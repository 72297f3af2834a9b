"""Budget metrics (PR, PBC, AC, RFBC) from run records, and pass^k over repeated runs, by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from answers.converted_files import entry, record, write_run
from judge_script import marks, verdict

from toolsim.evaluator import evaluate_pass_rate


def _budget_run(tmp_path: Path) -> Path:
    entries = {
        "1": entry("q1", "[[ok]]"),  # Solved, cost 4 within 10
        "2": entry("q2", "[[ok]]"),  # Solved, but cost 12 > 10 (no enforcement)
        "3": entry("q3", "[[half]]"),  # Unsure twice -> 0.5, hit the wall but answered
        "4": entry("q4", None),  # stopped by the budget without an answer
    }
    records = {
        "1": record("1", "G", cost=4, budget=10),
        "2": record("2", "G", cost=12, budget=10, over_budget=True),
        "3": record("3", "G", cost=10, budget=10, budget_exhausted=True),
        "4": record("4", "G", cost=9, budget=10, budget_exhausted=True, status="no_answer"),
    }
    return write_run(tmp_path / "run", "G", entries, records, budget=10)


def test_budget_metrics_by_hand(tmp_path: Path, judge_settings, script) -> None:
    script.respond = lambda kind, user, run: verdict(
        "Unsure" if marks(user) == ["half"] else "Solved"
    )
    report = evaluate_pass_rate([_budget_run(tmp_path)], runs=2, settings=judge_settings)
    [result] = report.entries
    metrics = result.groups["G"].budget
    assert metrics is not None and metrics.budget == 10 and metrics.queries == 4
    assert metrics.pr.mean == pytest.approx(100 * 2.5 / 4)  # 1 + 1 + 0.5 + 0
    assert metrics.pbc.mean == pytest.approx(100 * 1.5 / 4)  # query 2 went over: 0
    assert metrics.ac == pytest.approx((4 + 12 + 10 + 9) / 4)
    assert metrics.rfbc == pytest.approx(100 * 3 / 4)  # 2 over, 3 and 4 hit the wall
    assert result.budget.pbc.mean == pytest.approx(metrics.pbc.mean)  # one group: same
    assert result.groups["G"].rate.mean == pytest.approx(metrics.pr.mean)
    budget_json = report.to_json()["entries"][0]["groups"]["G"]["budget"]
    assert budget_json["AC"] == 8.75 and budget_json["RFBC"] == 75.0


def test_no_records_no_budget_metrics(tmp_path: Path, judge_settings, script) -> None:
    run = write_run(tmp_path / "run", "G", {"1": entry("q", "a")}, {"1": record("1", "G")})
    report = evaluate_pass_rate([run], runs=1, settings=judge_settings)
    metrics = report.entries[0].budget
    assert metrics is not None and metrics.pbc is None and metrics.rfbc is None
    assert metrics.ac == 0 and metrics.pr.mean == 100


def _trial(tmp_path: Path, name: str) -> Path:
    entries = {qid: entry(f"q{qid}", f"[[{name}_{qid}]]") for qid in ("1", "2", "3")}
    records = {qid: record(qid, "G") for qid in entries}
    return write_run(tmp_path / name, "G", entries, records, agent_model="m", planner="btp")


def test_pass_hat_k_by_hand(tmp_path: Path, judge_settings, script) -> None:
    trials = [_trial(tmp_path, name) for name in ("t1", "t2", "t3")]
    other = write_run(tmp_path / "other", "G", {"1": entry("q1", "[[o_1]]")}, {}, agent_model="n")
    solved = {"t1_1", "t1_2", "t1_3", "t2_1", "t2_2", "t3_1", "o_1"}
    script.respond = lambda kind, user, run: verdict(
        "Solved" if marks(user)[0] in solved else "Unsure"
    )
    report = evaluate_pass_rate([*trials, other], runs=1, settings=judge_settings)
    [item] = report.pass_k  # "other" is a different system with a single run: no pass^k
    assert item.system == "m CoT@1 +btp" and item.labels == ("t1", "t2", "t3")
    # successes per query: 3, 2, 1 out of 3 trials (Unsure is not a pass)
    assert item.values[1]["G"] == pytest.approx(100 * (1 + 2 / 3 + 1 / 3) / 3)
    assert item.values[2]["G"] == pytest.approx(100 * (1 + 1 / 3 + 0) / 3)
    assert item.values[3]["G"] == pytest.approx(100 / 3)
    assert item.values[3]["overall"] == item.values[3]["G"]

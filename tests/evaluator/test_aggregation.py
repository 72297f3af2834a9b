"""Rates from labels, checked against arithmetic by hand and against the reference's labels."""

from __future__ import annotations

import ast
import csv
import json
import math
from pathlib import Path

import pytest
from answers.converted_files import entry, write_group
from judge_script import fail, marks, preferred, verdict

from toolsim.evaluator import evaluate_pass_rate, evaluate_win_rate
from toolsim.evaluator.labels import Label, Preference
from toolsim.evaluator.scoring.aggregate import summarize, win_score
from toolsim.evaluator.scoring.win_rate import candidate_first
from toolsim.evaluator.statistics import bootstrap_ci, pass_hat_k

S, U, N, X = Label.SOLVED, Label.UNSURE, Label.UNSOLVED, Label.UNSCORED
EXAMPLES = "stabletoolbench/data_example"


def test_summary_by_hand() -> None:
    labels = {"a": [S, S, N], "b": [U, N, N], "c": [N, X, S], "d": [X, X, X]}
    summary = summarize([labels], 3)
    # run 0: a 1, b 0.5, c 0 -> 50; run 1: a 1, b 0 (c unscored) -> 50; run 2: 0, 0, 1 -> 33.33
    assert summary.runs == pytest.approx((50.0, 50.0, 100 / 3))
    mean = (50 + 50 + 100 / 3) / 3
    assert summary.mean == pytest.approx(mean)
    std = math.sqrt(((50 - mean) ** 2 * 2 + (100 / 3 - mean) ** 2) / 3)
    assert summary.std == pytest.approx(std)
    assert summary.scored == 3  # d was never scored: excluded
    low, high = summary.ci
    assert 0 <= low <= summary.mean <= high <= 100


def test_average_is_the_mean_of_groups_per_run() -> None:
    g1 = {"1": [S, N], "2": [S, S]}  # 100, 50
    g2 = {"3": [N, N], "4": [N, S], "5": [U, N]}  # 16.67, 33.33
    overall = summarize([g1, g2], 2)
    assert overall.runs == pytest.approx(((100 + 50 / 3) / 2, (50 + 100 / 3) / 2))
    assert overall.mean == pytest.approx(sum(overall.runs) / 2)


def test_all_unscored_has_no_rate() -> None:
    summary = summarize([{"1": [X, X]}], 2)
    assert summary.mean is None and summary.std is None and summary.ci is None


def test_win_score_counts_ties_as_non_wins() -> None:
    W, L, T, Z = Preference.WIN, Preference.LOSS, Preference.TIE, Preference.UNSCORED
    summary = summarize([{"1": [W, T], "2": [L, Z], "3": [W, W]}], 2, win_score)
    assert summary.runs == pytest.approx((200 / 3, 50.0))


def test_bootstrap_is_seeded_and_brackets_the_mean() -> None:
    scores = [0.0, 100.0] * 50
    first = bootstrap_ci([scores])
    assert first == bootstrap_ci([scores])
    assert first[0] < 50 < first[1]
    assert bootstrap_ci([[100.0] * 10]) == (100.0, 100.0)


def test_pass_hat_k() -> None:
    assert pass_hat_k(3, 3, 3) == 1 and pass_hat_k(2, 3, 3) == 0
    assert pass_hat_k(2, 4, 1) == 0.5 and pass_hat_k(2, 4, 2) == pytest.approx(1 / 6)


def _answers(tmp_path: Path) -> Path:
    entries = {
        "1": entry("q1", "[[one]]"),
        "2": entry("q2", "[[two]]"),
        "3": entry("q3", "[[three]]"),
        "4": entry("q4", "[[four]]"),
        "5": entry("q5", None),  # never finished: Unsolved by rule, no judge call
    }
    return write_group(tmp_path / "answers" / "agent", "G1_tool", entries).parent


def test_scripted_verdicts_by_hand(tmp_path: Path, judge_settings, script) -> None:
    plan = {
        # query -> per run: first-pass reply, and the second pass's if the first is Unsure
        "one": [verdict("Solved"), verdict("Unsolved")],
        "two": [verdict("Unsure"), verdict("Unsure")],
        "three": ["not json at all", verdict("Solved")],
        "four": [fail, verdict("Unsure")],
    }
    second = {("two", 0): verdict("Solved"), ("two", 1): verdict("Unsure"), ("four", 1): "{}"}

    def respond(kind: str, user: str, run: int) -> str:
        [name] = marks(user)
        if kind == "trajectory":
            return second[(name, run)]
        reply = plan[name][run]
        return reply() if callable(reply) else reply

    script.respond = respond
    report = evaluate_pass_rate([_answers(tmp_path)], runs=2, settings=judge_settings)
    [result] = report.entries
    group = result.groups["G1_tool"]
    labels = {qid: [o.label for o in outcomes] for qid, outcomes in group.outcomes.items()}
    assert labels == {"1": [S, N], "2": [S, U], "3": [X, S], "4": [X, X], "5": [N, N]}
    # run 0: 1, 1, 0 over scored {1, 2, 5} -> 66.67; run 1: 0, 0.5, 1, 0 over {1, 2, 3, 5} -> 37.5
    assert group.rate.runs == pytest.approx((200 / 3, 37.5))
    assert group.rate.mean == pytest.approx((200 / 3 + 37.5) / 2)
    assert group.rate.std == pytest.approx(abs(200 / 3 - 37.5) / 2)
    assert group.counts == {"Solved": 3, "Unsure": 1, "Unsolved": 3, "unscored": 3}
    assert result.overall.mean == pytest.approx(group.rate.mean)
    # Rules decide query 5 without the judge; Unsure gets a second pass with the trajectory.
    assert script.kinds().count("trajectory") == 3 and script.calls == 4 * 2 + 3
    assert report.judge.requests == 11 and report.judge.failed == 1
    reasons = {o.reason for o in group.outcomes["4"]}
    assert "judge request failed: scripted failure" in reasons
    assert any(r.startswith("second pass: reply has no valid 'verdict'") for r in reasons)
    assert group.outcomes["5"][0].by == "rule"


def _reference_labels(path: Path) -> dict[str, list[Label]]:
    data = json.loads(path.read_text())
    return {
        qid: [Label(item["is_solved"][str(run)].split(".")[1]) for run in range(3)]
        for qid, item in data.items()
    }


def _hand_rate(labels: dict[str, list[Label]]) -> float:
    points = {Label.SOLVED: 1.0, Label.UNSURE: 0.5, Label.UNSOLVED: 0.0}
    per_run = [sum(points[v[r]] for v in labels.values()) / len(labels) for r in range(3)]
    return 100 * sum(per_run) / 3


@pytest.mark.parametrize("method", ["virtual_chatgpt_cot", "virtual_chatgpt_dfs"])
def test_reference_labels_give_the_reference_rate(shared_data: Path, method: str) -> None:
    folder = shared_data / EXAMPLES / "pass_rate_results" / method
    from_json = _reference_labels(folder / f"G1_instruction_{method}.json")
    with open(folder / f"G1_instruction_{method}.csv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    from_csv = {
        row["query_id"]: [
            Label(v.split(".")[1]) for _, v in sorted(ast.literal_eval(row["is_solved"]).items())
        ]
        for row in rows
    }
    assert from_csv == from_json
    summary = summarize([from_json], 3)
    assert summary.mean == pytest.approx(_hand_rate(from_json))
    assert summary.std == 0


@pytest.mark.parametrize("method", ["virtual_chatgpt_cot", "virtual_chatgpt_dfs"])
def test_replaying_reference_labels_through_our_pipeline(
    shared_data: Path, judge_settings, script, method: str
) -> None:
    """A judge that says what the reference's judge said reproduces its per-group rate."""
    labels = _reference_labels(
        shared_data / EXAMPLES / "pass_rate_results" / method / f"G1_instruction_{method}.json"
    )
    converted = shared_data / EXAMPLES / "model_predictions_converted" / method
    items = json.loads((converted / "G1_instruction.json").read_text())
    queries = {item["query"]: qid for qid, item in items.items()}

    def respond(kind: str, user: str, run: int) -> str:
        qid = next(qid for query, qid in queries.items() if query in user)
        return verdict(labels[qid][run].value)

    script.respond = respond
    report = evaluate_pass_rate([converted], runs=3, settings=judge_settings)
    group = report.entries[0].groups["G1_instruction"]
    assert {q: [o.label for o in runs] for q, runs in group.outcomes.items()} == labels
    assert group.rate.mean == pytest.approx(_hand_rate(labels))


def test_win_rate_by_hand(tmp_path: Path, judge_settings, script) -> None:
    mine = {
        "1": entry("q1", "[[m1]]"),  # both Solved: judge, always prefers mine
        "2": entry("q2", "[[m2]]"),  # both Solved: judge says tie
        "3": entry("q3", "[[m3]]"),  # only mine Solved: a win without comparing
        "4": entry("q4", None),  # neither answered: a tie by rule
        "5": entry("q5", "[[m5]]"),  # both Solved: the judge's reply is unusable
    }
    theirs = {
        "1": entry("q1", "[[t1]]"),
        "2": entry("q2", "[[t2]]"),
        "3": entry("q3", "[[t3]]"),
        "4": entry("q4", None),
        "5": entry("q5", "[[t5]]"),
        "6": entry("q6", "[[t6]]"),  # the candidate never saw it: not compared
    }
    cand = write_group(tmp_path / "cand", "G", mine).parent
    ref = write_group(tmp_path / "ref", "G", theirs).parent
    positions = []

    def respond(kind: str, user: str, run: int) -> str:
        found = marks(user)
        if kind != "compare":
            return verdict("Unsolved" if found == ["t3"] else "Solved")
        if found[0].endswith("5"):
            return "garbage"
        if found[0].endswith("2"):
            return preferred("tie")
        positions.append((run, found[0].startswith("m")))
        return preferred("A" if found[0].startswith("m") else "B")

    script.respond = respond
    report = evaluate_win_rate(cand, ref, rounds=3, settings=judge_settings)
    group = report.groups["G"]
    per_query = {q: [r.preference.value for r in rounds] for q, rounds in group.rounds.items()}
    assert per_query == {
        "1": ["win"] * 3,
        "2": ["tie"] * 3,
        "3": ["win"] * 3,
        "4": ["tie"] * 3,
        "5": ["unscored"] * 3,
    }
    assert group.counts == {"win": 6, "loss": 0, "tie": 6, "unscored": 3}
    assert group.rate.runs == pytest.approx((50.0, 50.0, 50.0))
    assert report.overall.mean == pytest.approx(50.0) and report.overall.std == 0
    assert {r.by for r in group.rounds["3"]} == {"solved"}
    assert {r.by for r in group.rounds["4"]} == {"rule"}
    # The order is shuffled per (group, query, round), and the verdict mapped back.
    assert sorted(positions) == [(run, candidate_first("G", "1", run)) for run in range(3)]
    shown_first = [candidate_first("G", str(q), r) for q in range(100) for r in range(3)]
    assert 100 < sum(shown_first) < 200
    assert any("answered by one side only" in p for p in report.problems)
    doc = report.to_json()
    assert doc["groups"]["G"]["per_query"]["1"] == {
        "cand": 3,
        "ref": 0,
        "ties": 0,
        "unscored": 0,
        "rounds": doc["groups"]["G"]["per_query"]["1"]["rounds"],
    }


def test_reference_preferences_reproduced(shared_data: Path, judge_settings, script) -> None:
    """Solved status decides 588; the judge (scripted like the reference's) decides the rest."""
    root = shared_data / EXAMPLES
    expected = json.loads(
        (
            root
            / "preference_results"
            / "G1_instruction_virtual_chatgpt_cot_virtual_chatgpt_dfs.json"
        ).read_text()
    )
    converted = root / "model_predictions_converted"
    dfs = json.loads((converted / "virtual_chatgpt_dfs" / "G1_instruction.json").read_text())
    labels = {
        m: _reference_labels(root / "pass_rate_results" / m / f"G1_instruction_{m}.json")
        for m in ("virtual_chatgpt_cot", "virtual_chatgpt_dfs")
    }
    cot_wins = {
        (qid, run)
        for qid, counts in expected.items()
        for run in range(counts["virtual_chatgpt_cot"])
    }

    def query_of(user: str) -> str:
        return next(qid for qid, item in dfs.items() if item["query"] in user)

    def respond(kind: str, user: str, run: int) -> str:
        qid = query_of(user)
        dfs_answer = json.loads(dfs[qid]["answer"]["final_answer"])["final_answer"][:80]
        if kind != "compare":
            method = "virtual_chatgpt_dfs" if dfs_answer in user else "virtual_chatgpt_cot"
            return verdict(labels[method][qid][run].value)
        dfs_is_a = user.index(dfs_answer) < user.index("Answer B")
        cot_should_win = (qid, run) in cot_wins
        return preferred("A" if dfs_is_a != cot_should_win else "B")

    script.respond = respond
    report = evaluate_win_rate(
        converted / "virtual_chatgpt_dfs",
        converted / "virtual_chatgpt_cot",
        rounds=3,
        settings=judge_settings,
    )
    doc = report.to_json()["groups"]["G1_instruction"]["per_query"]
    for qid, counts in expected.items():
        assert doc[qid]["virtual_chatgpt_dfs"] == counts["virtual_chatgpt_dfs"]
        assert doc[qid]["virtual_chatgpt_cot"] == counts["virtual_chatgpt_cot"]
    assert script.kinds().count("compare") == 6  # 588 was decided by Solved status alone
    assert report.overall.mean == pytest.approx(100 * 8 / 9)

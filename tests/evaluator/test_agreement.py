"""Agreement arithmetic by hand, and ``toolsim eval agreement`` on scripted verdicts."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from answers.result_files import result_entry, write_results
from judge_script import marks, verdict
from typer.testing import CliRunner

from toolsim.cli import app
from toolsim.errors import UserError
from toolsim.evaluator.agreement.measure import evaluate_agreement
from toolsim.evaluator.statistics import (
    accuracy,
    agreement,
    confusion,
    kappa,
    majority,
    noise_floor,
    pairwise,
    spearman,
)

S, N, U = "Solved", "Unsolved", "Unsure"


def test_accuracy_kappa_and_confusion_by_hand() -> None:
    reference = [S, S, S, N, N, S, N, S]
    judged = [S, S, N, N, S, S, N, U]
    assert accuracy(reference, judged) == pytest.approx(5 / 8)
    # p_o = 5/8; reference 5 S / 3 N, judge 4 S / 3 N / 1 U: p_e = (5*4 + 3*3) / 64 = 29/64
    assert kappa(reference, judged) == pytest.approx((5 / 8 - 29 / 64) / (1 - 29 / 64))
    assert confusion(reference, judged) == {S: {S: 3, N: 1, U: 1}, N: {N: 2, S: 1}}
    assert kappa([S, S], [S, S]) == 1.0 and kappa([S, N], [N, S]) == pytest.approx(-1.0)
    assert accuracy([], []) is None and kappa([], []) is None


def test_spearman_by_hand() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ranks (1, 2, 3) vs (1.5, 1.5, 3): Pearson = 1.5 / sqrt(2 * 1.5)
    assert spearman([1, 2, 3], [5, 5, 9]) == pytest.approx(1.5 / (2 * 1.5) ** 0.5)
    assert spearman([1, 2], [1, 2]) is None and spearman([1, 2, 3], [7, 7, 7]) is None


def test_majority_and_pairwise_runs() -> None:
    assert majority([S, N, S]) == S and majority([S, N, U]) is None and majority([]) is None
    # pairs: (S,S) (S,N) (S,N) from the first item; the second has one run only
    accuracy_, _, pairs = pairwise([[S, S, N], [N]])
    assert pairs == 3 and accuracy_ == pytest.approx(1 / 3)


def test_intervals_bracket_the_estimate_and_are_seeded() -> None:
    reference = [S, N] * 50
    judged = [S, N] * 40 + [N, S] * 10
    first = agreement(reference, judged, seed=3)
    assert first.accuracy == pytest.approx(0.8)
    assert first.accuracy_ci[0] < 0.8 < first.accuracy_ci[1]
    assert first.kappa_ci[0] < first.kappa < first.kappa_ci[1]
    assert agreement(reference, judged, seed=3) == first


def test_noise_floor_is_the_widest_interval_times_root_two() -> None:
    class Rate:
        def __init__(self, ci):
            self.ci = ci

    assert noise_floor([Rate((40.0, 60.0)), Rate((45.0, 50.0)), Rate(None)]) == pytest.approx(
        10 * 2**0.5
    )
    assert noise_floor([Rate(None)]) is None


def _labelled(tmp_path: Path) -> list[Path]:
    """Three systems; the scripted judge says Solved exactly where an answer has [[yes]]."""
    a = {
        "1": result_entry("q1", "[[yes]] here", labels=(S, S, S)),  # agree
        "2": result_entry("q2", "[[no]] sorry", labels=(N, N, S)),  # agree
        "3": result_entry("q3", "[[yes]] maybe", labels=(N, N, N)),  # disagree
        "4": result_entry("q4", None, labels=(N, N, N)),  # rule: agree, not answered
        "5": result_entry("q5", "[[yes]]", labels=(S, N, U)),  # no majority: left out
        "6": result_entry("q6", "[[no]]", labels=(U, U, S)),  # Unsure majority: left out
    }
    b = {
        "1": result_entry("q1", "[[no]] other", labels=(S, S, N)),  # disagree
        "2": result_entry("q2", "[[yes]] other", labels=(S, S, S)),  # agree
    }
    c = {"1": result_entry("q1", "[[yes]] third", labels=(S, S, S))}  # agree
    return [
        write_results(tmp_path / "sys_a", "G1_tool", a).parent,
        write_results(tmp_path / "sys_b", "G1_tool", b).parent,
        write_results(tmp_path / "sys_c", "G2_tool", c).parent,
    ]


def _respond(kind: str, user: str, run: int) -> str:
    return verdict(S if "yes" in marks(user) else N)


def test_agreement_on_scripted_verdicts(tmp_path: Path, judge_settings, script) -> None:
    script.respond = _respond
    report = evaluate_agreement(_labelled(tmp_path), runs=2, settings=judge_settings)

    # compared: a1 a2 a3 a4 b1 b2 c1 (7); agree: a1 a2 a4 b2 c1
    assert report.all.n == 7 and report.all.accuracy == pytest.approx(5 / 7)
    assert report.answered.n == 6 and report.answered.accuracy == pytest.approx(4 / 6)
    assert report.excluded == {"reference_no_majority": 1, "reference_unsure": 1}
    assert report.counted["judge_unsure"] == 0 and report.counted["judge_unscored"] == 0
    assert report.answered.confusion == {S: {S: 3, N: 1}, N: {N: 1, S: 1}}
    # reference answered S: a1 b1 b2 c1 (4); N: a2 a3 (2); judge S: a1 a3 b2 c1, N: a2 b1
    p_e = (4 * 4 + 2 * 2) / 36
    assert report.answered.kappa == pytest.approx((4 / 6 - p_e) / (1 - p_e))
    # the scripted judge is deterministic: its two runs always agree; the reference's do not
    assert report.judge_runs["answered"]["accuracy"] == 1.0
    assert report.reference_runs["all"]["pairs"] == 3 * 9
    rates = {rate.system: (rate.judged, rate.reference) for rate in report.systems}
    assert rates["sys_c"] == (pytest.approx(100.0), pytest.approx(100.0))
    assert rates["sys_b"][0] == pytest.approx(50.0)
    assert rates["sys_b"][1] == pytest.approx(100 * (2 / 3 + 1) / 2)
    assert report.spearman is not None
    doc = report.to_json()
    for key in ("accuracy", "kappa", "answered_accuracy", "answered_kappa", "spearman"):
        assert key in doc
    assert doc["answered_accuracy"] == pytest.approx(4 / 6, abs=1e-4)
    assert doc["judge"]["identity"]["backend"] == "scripted-judge"
    assert doc["noise_floor"] > 0 and doc["answers_per_second"] > 0


def test_a_seeded_sample_is_reproducible(tmp_path: Path, judge_settings, script) -> None:
    script.respond = _respond
    paths = _labelled(tmp_path)
    first = evaluate_agreement(paths, sample=4, seed=5, settings=judge_settings)
    again = evaluate_agreement(paths, sample=4, seed=5, settings=judge_settings)
    assert len(first.items) == 4 and first.sample == {"size": 4, "of": 9, "seed": 5}
    key = [(i.system, i.query_id) for i in first.items]
    assert key == [(i.system, i.query_id) for i in again.items]


def test_files_without_labels_are_a_clear_error(tmp_path: Path, judge_settings) -> None:
    from answers.converted_files import entry, write_group

    folder = write_group(tmp_path / "plain", "G1_tool", {"1": entry("q", "a")}).parent
    with pytest.raises(UserError, match="no reference-labelled answers"):
        evaluate_agreement([folder], settings=judge_settings)


def test_cli_writes_json_csv_and_html(tmp_path: Path, script, monkeypatch) -> None:
    from judge_script import BACKEND

    script.respond = _respond
    monkeypatch.setenv("TOOLSIM_HOME", str(tmp_path / "home"))
    out = tmp_path / "out"
    args = ["eval", "agreement", "--judge", BACKEND, "--out", str(out)]
    for path in _labelled(tmp_path):
        args += ["--labels", str(path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "answered" in result.output and "Spearman" in result.output
    assert "points between two systems are noise" in result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "agreement.csv",
        "agreement.json",
        "agreement_items.csv",
        "report.html",
    ]
    doc = json.loads((out / "agreement.json").read_text())
    assert doc["all"]["n"] == 7
    with open(out / "agreement_items.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 9 and {row["agree"] for row in rows} == {"1", "0", ""}
    page = (out / "report.html").read_text()
    assert "Agreement with the reference labels" in page and "Run-to-run" in page


def test_an_unknown_judge_lists_the_available_ones(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TOOLSIM_HOME", str(tmp_path / "home"))
    folder = write_results(tmp_path / "m", "G1_tool", {"1": result_entry("q", "a")}).parent
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "agreement",
            "--labels",
            str(folder),
            "--judge",
            "oracle",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 1
    assert "unknown judge 'oracle'; available: auto, learned, local, openai" in result.output

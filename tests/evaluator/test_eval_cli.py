"""``toolsim eval``: the reference examples end to end, bad input, and where reports go."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from answers.converted_files import entry, write_group
from judge_script import BACKEND
from typer.testing import CliRunner

from toolsim.cli import app

runner = CliRunner()
CONVERTED = "stabletoolbench/data_example/model_predictions_converted"


@pytest.fixture
def env(tmp_path: Path, script, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TOOLSIM_JUDGE__BACKEND", BACKEND)
    monkeypatch.setenv("TOOLSIM_HOME", str(tmp_path / "home"))
    return tmp_path


def _eval(*args: str):
    result = runner.invoke(app, ["eval", *args])
    return result


def test_pass_rate_on_the_reference_examples(shared_data: Path, env: Path, script) -> None:
    out = env / "reports"
    result = _eval("pass-rate", "--answers", str(shared_data / CONVERTED), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Solvable Pass Rate" in result.output and "virtual_chatgpt_dfs" in result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "pass_rate.csv",
        "pass_rate.json",
        "pass_rate_queries.csv",
        "report.html",
    ]
    doc = json.loads((out / "pass_rate.json").read_text())
    assert doc["kind"] == "pass_rate" and doc["runs"] == 3
    by_label = {e["label"]: e for e in doc["entries"]}
    cot = by_label["virtual_chatgpt_cot"]["groups"]["G1_instruction"]
    # Every finished answer is Solved by the default script; 588 never finished.
    assert cot["rate"]["mean"] == pytest.approx(200 / 3, abs=1e-3)
    assert cot["counts"] == {"Solved": 6, "Unsure": 0, "Unsolved": 3, "unscored": 0}
    assert cot["per_query"]["588"][0]["by"] == "rule"
    assert doc["judge"]["calls_made"] == script.calls == 5 * 3
    with open(out / "pass_rate.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {(r["label"], r["group"]) for r in rows} == {
        ("virtual_chatgpt_cot", "G1_instruction"),
        ("virtual_chatgpt_cot", "average"),
        ("virtual_chatgpt_dfs", "G1_instruction"),
        ("virtual_chatgpt_dfs", "average"),
    }
    again = _eval("pass-rate", "--answers", str(shared_data / CONVERTED), "--out", str(out))
    assert "0 model calls, 15 from the cache" in again.output


def test_win_rate_on_the_reference_examples(shared_data: Path, env: Path, script) -> None:
    out = env / "reports"
    result = _eval(
        "win-rate",
        "--answers",
        str(shared_data / CONVERTED / "virtual_chatgpt_dfs"),
        "--reference",
        str(shared_data / CONVERTED / "virtual_chatgpt_cot"),
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert "virtual_chatgpt_dfs vs virtual_chatgpt_cot: Solvable Win Rate" in result.output
    doc = json.loads((out / "win_rate.json").read_text())
    # 588: only dfs Solved -> 3 wins; the rest: the default script says "tie".
    assert doc["counts"] == {"win": 3, "loss": 0, "tie": 6, "unscored": 0}
    assert doc["overall"]["mean"] == pytest.approx(100 / 3, abs=1e-3)
    assert set(doc["pass_rate"]) == {"virtual_chatgpt_dfs", "virtual_chatgpt_cot"}
    assert (out / "win_rate.csv").exists() and (out / "report.html").exists()


def test_missing_and_malformed_answers_are_listed_and_the_rest_goes_on(env: Path) -> None:
    good = write_group(env / "good", "G1_tool", {"1": entry("q", "a")}).parent
    bad = env / "bad"
    bad.mkdir()
    (bad / "G2_tool.json").write_text('{"1": {"query": ', encoding="utf-8")
    (env / "empty").mkdir()
    result = _eval(
        "pass-rate",
        *("--answers", str(good)),
        *("--answers", str(bad)),
        *("--answers", str(env / "empty")),
        *("--answers", str(env / "missing")),
        *("--out", str(env / "out")),
        "--runs",
        "1",
    )
    assert result.exit_code == 0, result.output
    assert "G2_tool.json" in result.output and "not valid JSON" in result.output
    assert "empty: no answers found" in result.output
    assert "missing: no such file or folder" in result.output
    doc = json.loads((env / "out" / "pass_rate.json").read_text())
    assert [e["label"] for e in doc["entries"]] == ["good"]
    assert len(doc["problems"]) == 3


def test_nothing_to_evaluate_is_one_clear_error(env: Path) -> None:
    result = _eval("pass-rate", "--answers", str(env / "missing"), "--out", str(env / "out"))
    assert result.exit_code == 1
    assert "no answers to evaluate" in result.output and "missing" in result.output
    assert "Traceback" not in result.output


def test_unwritable_out_is_a_clear_error_before_any_judging(env: Path, script) -> None:
    good = write_group(env / "good", "G1_tool", {"1": entry("q", "a")}).parent
    (env / "file").write_text("not a folder")
    result = _eval("pass-rate", "--answers", str(good), "--out", str(env / "file" / "out"))
    assert result.exit_code == 1
    assert "cannot write reports to" in result.output
    assert script.calls == 0


def test_win_rate_needs_one_set_per_side(shared_data: Path, env: Path) -> None:
    result = _eval(
        "win-rate",
        *("--answers", str(shared_data / CONVERTED)),
        *("--reference", str(shared_data / CONVERTED / "virtual_chatgpt_cot")),
        *("--out", str(env / "out")),
    )
    assert result.exit_code == 1 and "expected one set of answers" in result.output


def test_bad_runs_value(env: Path) -> None:
    good = write_group(env / "good", "G1_tool", {"1": entry("q", "a")}).parent
    result = _eval("pass-rate", "--answers", str(good), "--runs", "0", "--out", str(env / "o"))
    assert result.exit_code == 1 and "--runs must be at least 1" in result.output

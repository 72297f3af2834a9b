"""``toolsim eval``: the reference examples end to end, bad input, and where reports go."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from answers.converted_files import entry, record, write_group, write_run
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


def _damaged_run(env: Path) -> Path:
    """A run folder of two groups whose G1_tool answers file was cut short."""
    run = write_run(env / "run", "G1_tool", {"1": entry("q1", "a"), "2": entry("q2", "b")}, {})
    write_run(run, "G2_tool", {"3": entry("q3", "c")}, {"3": record("3", "G2_tool")})
    for query_id in ("1", "2"):  # the records that rebuilt answers without their query
        (run / "records" / "G1_tool" / f"{query_id}.json").write_text(
            json.dumps(record(query_id, "G1_tool", final_answer="x")), encoding="utf-8"
        )
    damaged = run / "converted" / "G1_tool.json"
    damaged.write_bytes(damaged.read_bytes()[:40])
    return run


def test_a_damaged_answer_file_stops_the_evaluation_naming_it(env: Path, script) -> None:
    run = _damaged_run(env)
    result = _eval("pass-rate", "--answers", str(run), "--out", str(env / "out"), "--runs", "1")
    assert result.exit_code == 1
    assert f"{run / 'converted' / 'G1_tool.json'}: not valid JSON" in result.output
    assert "--skip-bad-files" in result.output and "Traceback" not in result.output
    assert script.calls == 0 and not (env / "out" / "pass_rate.json").exists()


def test_skipping_damaged_files_lists_them_in_the_report_and_the_json(env: Path, script) -> None:
    run = _damaged_run(env)
    missing = env / "missing"
    result = _eval(
        "pass-rate",
        *("--answers", str(run), "--answers", str(missing)),
        *("--out", str(env / "out"), "--runs", "1", "--skip-bad-files"),
    )
    assert result.exit_code == 0, result.output
    damaged = str(run / "converted" / "G1_tool.json")
    assert f"skipped: {damaged}: not valid JSON" in result.output
    assert f"skipped: {missing}: no such file or folder" in result.output
    doc = json.loads((env / "out" / "pass_rate.json").read_text())
    assert [name.split(": ")[0] for name in doc["skipped_files"]] == [damaged, str(missing)]
    # Only the intact group is scored: nothing rebuilt from G1_tool's records.
    [scored] = doc["entries"]
    assert list(scored["groups"]) == ["G2_tool"] and script.calls == 1
    html = (env / "out" / "report.html").read_text()
    assert "Skipped files" in html and damaged in html


def test_nothing_to_evaluate_is_one_clear_error(env: Path) -> None:
    result = _eval("pass-rate", "--answers", str(env / "missing"), "--out", str(env / "out"))
    assert result.exit_code == 1
    assert f"{env / 'missing'}: no such file or folder" in result.output
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


def test_an_answer_file_whose_name_is_not_utf8_is_an_error_line(env: Path) -> None:
    folder = env / "answers"
    write_group(folder, "G1_tool", {"1": entry("q", "a")})
    (folder / os.fsdecode(b"G2_\xff.json")).write_text(json.dumps({"2": entry("q", "b")}))
    result = _eval("pass-rate", "--answers", str(folder), "--out", str(env / "out"))
    assert result.exit_code == 1  # was a traceback (UnicodeEncodeError writing the report)
    assert "G2_\\udcff.json: its name is not UTF-8 text; rename it" in result.output
    assert "Traceback" not in result.output

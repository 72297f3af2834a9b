"""Every report that compares systems states the judge's resolution and marks what it cannot tell.

The resolution is twice the judge's largest pass-rate error per held-out method: two
systems closer than that may be ordered wrongly by this judge.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from judge_script import BACKEND
from typer.testing import CliRunner

from toolsim.cli import app
from toolsim.evaluator.judging.base import JudgeIdentity, resolution_note
from toolsim.evaluator.judging.learned.files import shipped_files
from toolsim.evaluator.judging.learned.judge import LearnedJudge, largest_error
from toolsim.evaluator.judging.rule import RuleJudge
from toolsim.evaluator.scoring.aggregate import RateSummary
from toolsim.evaluator.scoring.results import EntryResult, JudgeUsage, PassRateReport

CONVERTED = "stabletoolbench/data_example/model_predictions_converted"
runner = CliRunner()


def _report(rates: dict[str, float], resolution: float | None) -> PassRateReport:
    entries = [
        EntryResult(label, label, "", {}, RateSummary(rate, 0.0, (rate,), None, 10), {})
        for label, rate in rates.items()
    ]
    identity = JudgeIdentity("test", "test", "none", resolution=resolution)
    return PassRateReport(runs=1, entries=entries, judge=JudgeUsage("t", 0, 0, 0, 0, identity))


def test_pairs_closer_than_the_resolution_are_not_resolved() -> None:
    report = _report({"a": 50.0, "b": 53.0, "c": 70.0}, resolution=4.4)
    assert report.unresolved() == [("a", "b", pytest.approx(3.0))]
    assert report.to_json()["not_resolved_by_this_judge"] == [
        {"a": "a", "b": "b", "difference": 3.0}
    ]
    unmeasured = _report({"a": 50.0, "b": 53.0, "c": 70.0}, resolution=None)
    assert len(unmeasured.unresolved()) == 3  # nothing is resolved by an unmeasured judge
    assert "unmeasured" in resolution_note(None) and "--judge openai" in resolution_note(None)
    assert "4.4 points" in resolution_note(4.4)


def test_the_shipped_judges_carry_their_measured_resolution() -> None:
    card = json.loads(shipped_files().card)
    learned = LearnedJudge.load().identity()
    errors = [
        card["final_test"]["learned"]["ranking"]["max_abs_error"],
        card["cross_validation"]["method"]["ranking"]["max_abs_error"],
    ]
    assert learned.resolution == pytest.approx(2 * max(errors))
    assert largest_error(card, "rule") == card["final_test"]["rule"]["ranking"]["max_abs_error"]
    rule = RuleJudge().identity()
    assert rule.resolution is not None and rule.resolution > 20  # the rule resolves little
    assert learned.to_json()["resolution"] == pytest.approx(learned.resolution, abs=0.01)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TOOLSIM_HOME", str(tmp_path / "home"))
    return tmp_path


def test_pass_rate_of_several_systems_and_win_rate_state_it(shared_data: Path, env: Path) -> None:
    folder = shared_data / CONVERTED
    out = env / "pass"
    result = runner.invoke(
        app, ["eval", "pass-rate", "--answers", str(folder), "--runs", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "judge resolution" in result.output
    doc = json.loads((out / "pass_rate.json").read_text())
    assert doc["resolution"] == pytest.approx(LearnedJudge.load().identity().resolution, abs=0.01)
    pairs = doc["not_resolved_by_this_judge"]
    rates = {entry["label"]: entry["overall"]["mean"] for entry in doc["entries"]}
    for pair in pairs:
        assert abs(rates[pair["a"]] - rates[pair["b"]]) < doc["resolution"]
        assert f"{pair['a']} vs {pair['b']}" in result.output.replace("\n", " ")
    assert "not resolved by this judge" in (out / "report.html").read_text() or not pairs
    win = runner.invoke(
        app,
        [
            "eval",
            "win-rate",
            "--answers",
            str(folder / "virtual_chatgpt_dfs"),
            "--reference",
            str(folder / "virtual_chatgpt_cot"),
            "--rounds",
            "1",
            "--out",
            str(env / "win"),
        ],
    )
    assert win.exit_code == 0, win.output
    assert "judge resolution" in win.output


def test_an_unmeasured_judge_resolves_nothing(
    shared_data: Path, env: Path, monkeypatch: pytest.MonkeyPatch, script
) -> None:
    monkeypatch.setenv("TOOLSIM_JUDGE__BACKEND", BACKEND)
    result = runner.invoke(
        app,
        ["eval", "pass-rate", "--answers", str(shared_data / CONVERTED), "--out", str(env / "o")],
    )
    assert result.exit_code == 0, result.output
    output = result.output.replace("\n", " ")
    assert "resolution is unmeasured" in output
    assert "virtual_chatgpt_cot vs virtual_chatgpt_dfs" in output


def test_the_rule_is_a_registered_judge(tmp_path: Path) -> None:
    import asyncio

    from test_grounding import CALL, QUERY, _answer

    from toolsim.evaluator.judging.factory import available_judges, create_judge
    from toolsim.settings import Settings

    assert "rule" in available_judges()
    judge = create_judge(Settings(home=tmp_path), "rule")
    good = _answer(QUERY, "It is 21.5 C in Paris.", (CALL,))
    sorry = _answer(QUERY, "Sorry, I could not get the weather.", (CALL,))
    assert asyncio.run(judge.verdict(good, 0)).label.value == "Solved"
    assert asyncio.run(judge.verdict(sorry, 0)).label.value == "Unsolved"
    assert asyncio.run(judge.compare(QUERY, sorry, good, 0))[0] == "B"
    assert judge.calls == judge.cached == 0 and judge.requests == 2

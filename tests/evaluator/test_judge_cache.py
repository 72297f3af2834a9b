"""The judge cache: re-evaluating the same answers asks the model nothing and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from answers.converted_files import entry, write_group
from judge_script import fail, marks, verdict

from toolsim.errors import UserError
from toolsim.evaluator import evaluate_pass_rate, evaluate_win_rate
from toolsim.llm import LLMUnavailable


def _folder(tmp_path: Path, name: str, count: int) -> Path:
    entries = {str(i): entry(f"question {i}", f"[[{name}{i}]] answer") for i in range(count)}
    return write_group(tmp_path / name, "G1_instruction", entries).parent


def _stable(doc: dict) -> dict:
    return {key: value for key, value in doc.items() if key not in ("judge", "seconds")}


def test_second_evaluation_makes_no_model_call(tmp_path: Path, judge_settings, script) -> None:
    script.respond = lambda kind, user, run: verdict(
        ["Solved", "Unsolved", "Unsure"][(int(marks(user)[0][1:]) + run) % 3]
    )
    folder = _folder(tmp_path, "a", 6)
    first = evaluate_pass_rate([folder], runs=3, settings=judge_settings)
    calls = script.calls
    assert first.judge.calls == calls > 0 and first.judge.cached == 0
    second = evaluate_pass_rate([folder], runs=3, settings=judge_settings)
    assert script.calls == calls  # counted at the model itself: nothing reached it
    assert second.judge.calls == 0 and second.judge.cached == first.judge.requests
    assert _stable(second.to_json()) == _stable(first.to_json())


def test_each_run_is_its_own_request(tmp_path: Path, judge_settings, script) -> None:
    evaluate_pass_rate([_folder(tmp_path, "a", 1)], runs=3, settings=judge_settings)
    assert sorted(request.sample for request in script.requests) == [0, 1, 2]
    assert len({request.seed for request in script.requests}) == 3
    request = script.requests[0]
    schema = request.response_format["json_schema"]["schema"]
    assert schema["properties"]["verdict"]["enum"] == ["Solved", "Unsolved", "Unsure"]


def test_failures_are_not_cached(tmp_path: Path, judge_settings, script) -> None:
    folder = _folder(tmp_path, "a", 2)
    script.respond = lambda kind, user, run: fail() if "a1" in marks(user) else verdict("Solved")
    first = evaluate_pass_rate([folder], runs=1, settings=judge_settings)
    assert first.entries[0].counts["unscored"] == 1 and first.judge.failed == 1
    script.respond = lambda kind, user, run: verdict("Solved")
    second = evaluate_pass_rate([folder], runs=1, settings=judge_settings)
    assert second.judge.calls == 1 and second.judge.cached == 1
    assert second.entries[0].counts == {"Solved": 2, "Unsure": 0, "Unsolved": 0, "unscored": 0}


def test_win_rate_reuses_cached_pass_verdicts(tmp_path: Path, judge_settings, script) -> None:
    a, b = _folder(tmp_path, "a", 3), _folder(tmp_path, "b", 3)
    evaluate_pass_rate([a, b], runs=2, settings=judge_settings)
    passes = script.calls
    report = evaluate_win_rate(a, b, rounds=2, settings=judge_settings)
    # Only the comparisons are new: every pass verdict came from the cache.
    assert script.kinds()[passes:] == ["compare"] * 6
    again = evaluate_win_rate(a, b, rounds=2, settings=judge_settings)
    assert again.judge.calls == 0
    assert _stable(again.to_json()) == _stable(report.to_json())


def test_unreachable_judge_stops_the_evaluation(tmp_path: Path, judge_settings, script) -> None:
    def down(kind: str, user: str, run: int) -> str:
        raise LLMUnavailable("cannot reach the model at http://nowhere")

    script.respond = down
    with pytest.raises(UserError, match="the judge model is unavailable: cannot reach"):
        evaluate_pass_rate([_folder(tmp_path, "a", 2)], runs=1, settings=judge_settings)

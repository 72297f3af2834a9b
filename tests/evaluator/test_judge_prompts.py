"""Judge prompts: short enough for a 4k-token slot, cuts marked, replies parsed strictly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from answers.converted_files import entry, write_group
from judge_script import verdict

from toolsim.answers import load_answer_sets
from toolsim.errors import NoVerdict
from toolsim.evaluator import evaluate_pass_rate
from toolsim.evaluator.judging.llm import JudgeOptions, parse_reply, shorten

CHOICES = ("Solved", "Unsolved", "Unsure")


def test_shorten_keeps_head_and_tail_and_marks_the_cut() -> None:
    text = "A" * 500 + "B" * 500
    short = shorten(text, 200)
    assert len(short) <= 200
    assert short.startswith("AAA") and short.endswith("BBB")
    assert "characters cut ...]" in short
    assert shorten("tiny", 200) == "tiny"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"reason": "ok", "verdict": "Solved"}', ("Solved", "ok")),
        ('{"verdict": "unsure", "reason": 3}', ("Unsure", "")),
        ('Sure! {"reason": "r", "verdict": "Unsolved"} done', ("Unsolved", "r")),
    ],
)
def test_parse_reply_accepts(content: str, expected: tuple[str, str]) -> None:
    assert parse_reply(content, "verdict", CHOICES) == expected


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "empty reply"),
        ("   ", "empty reply"),
        ('{"reason": "cut off', "not JSON"),
        ("[1]", "not a JSON object"),
        ('{"reason": "r", "verdict": "Maybe"}', "no valid 'verdict'"),
        ('{"reason": "r"}', "no valid 'verdict'"),
    ],
)
def test_parse_reply_rejects(content: str | None, message: str) -> None:
    with pytest.raises(NoVerdict, match=message):
        parse_reply(content, "verdict", CHOICES)


def test_long_answers_and_trajectories_fit_the_budget(
    tmp_path: Path, judge_settings, script
) -> None:
    steps = [("search_for_tool", {"q": "x" * 400}, "y" * 3000) for _ in range(40)]
    long = entry("Q" * 5000, "Z" * 20000, steps=steps)
    folder = write_group(tmp_path / "m", "G", {"1": long}).parent
    script.respond = lambda kind, user, run: verdict("Unsure" if kind == "answer" else "Solved")
    report = evaluate_pass_rate([folder], runs=1, settings=judge_settings)
    assert report.entries[0].counts["Solved"] == 1
    options = JudgeOptions()
    budget = options.prompt_chars + options.query_chars + 600  # plus the template's own text
    for request in script.requests:
        system, user = (m["content"] for m in request.messages)
        assert len(user) <= budget
        assert "characters cut" in user and "shortened" in system
    trajectory = script.requests[1].messages[1]["content"]
    assert "Tool calls (40 in total)" in trajectory and "more calls cut" in trajectory


def test_trajectory_prompt_shows_calls_and_replies(tmp_path: Path, judge_settings, script) -> None:
    steps = [("weather_for_skycast", {"city": "Oslo"}, {"temp": 21})]
    folder = write_group(tmp_path / "m", "G", {"1": entry("q", "It is 21", steps=steps)}).parent
    script.respond = lambda kind, user, run: verdict("Unsure")
    report = evaluate_pass_rate([folder], runs=1, settings=judge_settings)
    assert report.entries[0].groups["G"].outcomes["1"][0].by == "trajectory"
    trajectory = script.requests[1].messages[1]["content"]
    [answer_set] = load_answer_sets(folder)
    step = answer_set.answers["1"].steps[0]
    assert f"1. weather_for_skycast({step.arguments}) -> {step.response}" in trajectory
    assert json.loads(step.response) == {"error": "", "response": {"temp": 21}}


def test_the_judge_fingerprint_hashes_every_packaged_prompt() -> None:
    import hashlib

    from toolsim.evaluator.judging.llm import PROMPTS, LLMJudge

    folder = Path(__file__).parents[2] / "toolsim" / "evaluator" / "judging" / "prompts"
    digest = hashlib.sha256()
    for name in PROMPTS:
        digest.update(f"{name}\0{(folder / f'{name}.txt').read_text('utf-8')}\0".encode())

    class Chat:
        name = "m"

    identity = LLMJudge(Chat()).identity()  # type: ignore[arg-type]
    assert identity.fingerprint == f"prompt {digest.hexdigest()[:12]}"

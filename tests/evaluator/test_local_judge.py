"""Integration: the embedded local model as the judge, on the reference examples (plumbing only).

SmolLM2-135M is far too small to judge quality; this checks that real verdicts
come back constrained to the schema (or are reported unscored, never Unsolved),
that the rules spare the model, and that a second evaluation is all cache hits.
Skips without the model unless ``TOOLSIM_REQUIRE_LOCAL_MODEL=1``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import require_local_model

from toolsim.evaluator import evaluate_pass_rate, evaluate_win_rate
from toolsim.evaluator.labels import Label, Preference
from toolsim.settings import Settings

pytestmark = pytest.mark.integration
CONVERTED = "stabletoolbench/data_example/model_predictions_converted"


def test_local_judge_on_the_reference_examples(shared_data: Path, tmp_path: Path) -> None:
    require_local_model()
    settings = Settings(home=tmp_path / "home", judge={"backend": "local"})
    cot = shared_data / CONVERTED / "virtual_chatgpt_cot"
    first = evaluate_pass_rate([cot], runs=1, settings=settings)
    group = first.entries[0].groups["G1_instruction"]
    # 588 never finished: Unsolved by rule; the two others went to the model.
    assert group.outcomes["588"][0].by == "rule"
    judged = [group.outcomes[qid][0] for qid in ("608", "1073")]
    assert all(outcome.by in ("answer", "trajectory") for outcome in judged)
    for outcome in judged:
        if outcome.label is Label.UNSCORED:
            assert outcome.reason  # reported with why, and left out of the rate
    assert first.judge.calls >= 2 and first.judge.failed == 0
    second = evaluate_pass_rate([cot], runs=1, settings=settings)
    assert second.judge.calls == 0 and second.judge.cached == first.judge.requests
    assert second.entries[0].groups["G1_instruction"].rate == group.rate


def test_local_judge_compares(shared_data: Path, tmp_path: Path) -> None:
    require_local_model()
    settings = Settings(home=tmp_path / "home", judge={"backend": "local"})
    report = evaluate_win_rate(
        shared_data / CONVERTED / "virtual_chatgpt_dfs",
        shared_data / CONVERTED / "virtual_chatgpt_cot",
        rounds=1,
        settings=settings,
    )
    group = report.groups["G1_instruction"]
    assert sum(group.counts.values()) == 3
    # Only the DFS side answered 588: it wins on status or by rule, never by the model.
    assert group.rounds["588"][0].preference is Preference.WIN
    assert group.rounds["588"][0].by in ("solved", "rule")
    assert report.judge.calls >= 1

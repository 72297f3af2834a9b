"""Reading StableToolBench pass-rate result files: steps, the final answer, labels, groups."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from answers.result_files import result_entry, write_results

from toolsim.answers import load_answer_sets
from toolsim.answers.results import parse_steps, reference_labels
from toolsim.errors import UserError
from toolsim.files import DamagedFile, DamagedFiles

RESULTS = "stabletoolbench/data_example/pass_rate_results"


def test_steps_answer_and_labels_are_read(tmp_path: Path) -> None:
    entries = {
        "7": result_entry(
            "weather in Oslo?",
            "It is 5 degrees in Oslo.",
            labels=("Solved", "Unsolved", "Solved"),
            steps=[("weather_for_met", {"city": "Oslo"}, "{'temp': 5}")],
        ),
        "8": result_entry("give up?", "", return_type="give_up_and_restart"),
        "9": result_entry("never finished", None, steps=[("a_for_b", {}, "x")]),
    }
    path = write_results(tmp_path / "my_method", "G1_tool", entries)
    [answer_set] = load_answer_sets(path)
    assert (answer_set.label, answer_set.group) == ("my_method", "G1_tool")
    answered = answer_set.answers["7"]
    assert answered.finished and answered.final_answer == "It is 5 degrees in Oslo."
    assert answered.reference == ("Solved", "Unsolved", "Solved")
    [step] = answered.steps
    assert step.function == "weather_for_met" and json.loads(step.arguments) == {"city": "Oslo"}
    assert json.loads(step.response)["response"] == "{'temp': 5}" and step.error == ""
    assert not answer_set.answers["8"].finished
    unfinished = answer_set.answers["9"]
    assert not unfinished.finished and [s.function for s in unfinished.steps] == ["a_for_b"]


def test_labels_are_ordered_by_run_and_checked() -> None:
    assert reference_labels({"2": "AnswerStatus.Unsure", "0": "AnswerStatus.Solved"}) == (
        "Solved",
        "Unsure",
    )
    assert reference_labels("{'0': 'AnswerStatus.Unsolved'}") == ("Unsolved",)
    with pytest.raises(ValueError, match="unknown label"):
        reference_labels({"0": "AnswerStatus.Maybe"})


def test_a_step_that_is_not_a_repr_is_kept_leniently() -> None:
    [step] = parse_steps("Step 1: {'name': 'search_for_x', 'arguments': broken")
    assert step["name"] == "search_for_x"


def test_a_broken_entry_is_an_error_or_skipped_and_the_rest_loads(tmp_path: Path) -> None:
    entries = {"1": result_entry("q", "a"), "2": {**result_entry("q", "a"), "is_solved": 3}}
    path = write_results(tmp_path / "m", "G2_category", entries)
    with pytest.raises(DamagedFile, match="query 2: .*is_solved"):
        load_answer_sets(path)
    skipping = DamagedFiles(skip=True)
    [answer_set] = load_answer_sets(path, skipping)
    assert list(answer_set.answers) == ["1"]
    assert any("is_solved" in name for name in skipping.skipped)


def test_the_reference_examples_load_with_their_groups(shared_data: Path) -> None:
    sets = load_answer_sets(shared_data / RESULTS)
    assert {(s.label, s.group) for s in sets} == {
        ("virtual_chatgpt_cot", "G1_instruction"),
        ("virtual_chatgpt_dfs", "G1_instruction"),
    }
    cot = next(s for s in sets if s.label == "virtual_chatgpt_cot").answers
    assert cot["1073"].finished and cot["1073"].reference == ("Solved",) * 3
    assert not cot["588"].finished and cot["588"].reference == ("Unsolved",) * 3


@pytest.mark.slow
def test_the_shared_judge_labels_load_completely(shared_data: Path) -> None:
    sets = load_answer_sets(shared_data / "judge-labels")
    assert sum(len(s.answers) for s in sets) == 4437
    assert not [problem for s in sets for problem in s.problems]
    # Answers whose final step never gives an answer are all Unsolved in the reference.
    unfinished = [a for s in sets for a in s.answers.values() if not a.finished]
    assert unfinished and all(set(a.reference) == {"Unsolved"} for a in unfinished)


def test_nothing_readable_is_a_clear_error(tmp_path: Path) -> None:
    path = write_results(tmp_path / "m", "G1_tool", {"1": {"final_step": "", "query": 5}})
    with pytest.raises(UserError, match="missing field 'query'"):
        load_answer_sets(path)

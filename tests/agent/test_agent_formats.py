"""Our answer files have the reference files' structure (and load in toolsim's evaluator)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from agent_support import call, finish, give_up, load, notes, steps_done

WEATHER = "current_weather_for_skycast_weather"
REFERENCE = "stabletoolbench/data_example"


def keys(value: Any) -> Any:
    """The structure of a JSON value: dict keys (recursively), list element structures."""
    if isinstance(value, dict):
        return {key: keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [keys(value[0])] if value else []
    return type(value).__name__


def node_keys(node: dict[str, Any]) -> set[str]:
    return set(node) - {"children"}


def reference_nodes(tree: dict[str, Any]) -> list[dict[str, Any]]:
    found, pending = [], [tree]
    while pending:
        node = pending.pop()
        found.append(node)
        pending += node.get("children", [])
    return found


@pytest.fixture
async def both_runs(run, model, tmp_path) -> dict[str, Path]:
    """A CoT and a DFSDT run with tool calls, thoughts, answers (and a give-up in the tree)."""

    def policy(request):
        done = steps_done(request)
        if done == 0:
            return call(WEATHER, "Look it up.", city="Lisbon")
        if done == 1 and not notes(request):
            return give_up()
        return finish("Sunny", "Done.")

    model.policy = lambda request: (
        call(WEATHER, city="Oslo") if not steps_done(request) else (finish("Sunny", "Done."))
    )
    cot = await run(agent="cot", ids=("1", "2"), out=tmp_path / "cot")
    model.policy = policy
    dfs = await run(agent="dfsdt", ids=("1", "2"), out=tmp_path / "dfs")
    return {"cot": cot.out, "dfs": dfs.out}


async def test_raw_answers_have_the_reference_structure(both_runs, shared_data):
    examples = shared_data / REFERENCE / "answer"
    for name, method, out_name in (
        ("virtual_chatgpt_cot", "CoT@1", "cot"),
        ("virtual_chatgpt_dfs", "DFS_woFilter_w2", "dfs"),
    ):
        reference = load(examples / name / "G1_instruction" / f"608_{method}.json")
        ours = load(both_runs[out_name] / "answer" / "example" / f"1_{method}.json")
        assert set(ours) == set(reference)
        assert set(ours["answer_generation"]) == set(reference["answer_generation"])
        assert keys(ours["forward_args"]) == keys(reference["forward_args"])
        for field in ("valid_data", "final_answer", "query_count", "total_tokens", "query"):
            assert type(ours["answer_generation"][field]) is type(
                reference["answer_generation"][field]
            )
        theirs_functions = reference["answer_generation"]["function"]
        our_functions = ours["answer_generation"]["function"]
        assert keys(our_functions[0]) == {
            **keys(theirs_functions[0]),
            "parameters": keys(our_functions[0]["parameters"]),
        }
        assert set(our_functions[0]["parameters"]) == set(theirs_functions[0]["parameters"])
        assert our_functions[-1]["name"] == theirs_functions[-1]["name"] == "Finish"
        for conversation in ours["answer_generation"]["train_messages"]:
            assert [m["role"] for m in conversation[:2]] == ["system", "user"]
            assert "function_call" in conversation[-1]
        their_nodes = (
            reference_nodes(reference["tree"]["tree"])
            if "tree" in reference
            else reference["trys"][0]["chain"]
        )
        our_nodes = (
            reference_nodes(ours["tree"]["tree"]) if "tree" in ours else ours["trys"][0]["chain"]
        )
        # The DFS root (depth 0) is an observation-less "Action Input" in both.
        their_kinds = {n["node_type"]: node_keys(n) for n in their_nodes if n["depth"]}
        assert {n["node_type"] for n in our_nodes if n["depth"]} == set(their_kinds)
        for node in our_nodes:
            if not node["depth"]:
                assert node_keys(node) == node_keys(their_nodes[0])
                continue
            assert node_keys(node) == their_kinds[node["node_type"]], node["node_type"]
        if "tree" in ours:
            assert set(ours["tree"]) == set(reference["tree"])


async def test_converted_answers_have_the_reference_structure(both_runs, shared_data):
    converted = shared_data / REFERENCE / "model_predictions_converted"
    for name, out_name in (("virtual_chatgpt_cot", "cot"), ("virtual_chatgpt_dfs", "dfs")):
        reference = load(converted / name / "G1_instruction.json")
        ours = load(both_runs[out_name] / "converted" / "example.json")
        theirs = next(iter(reference.values()))
        for entry in ours.values():
            assert set(entry) == set(theirs)
            assert set(entry["answer"]) == set(theirs["answer"])
            assert entry["answer"]["method"] == theirs["answer"]["method"]
            node = entry["answer"]["answer_details"][0]
            roles = []
            while True:
                assert set(node) == {"role", "message", "next"}
                roles.append(node["role"])
                if node["role"] == "tool":
                    assert set(node["message"]) == {"name", "arguments", "response"}
                    json.loads(node["message"]["arguments"])
                if not node["next"]:
                    break
                node = node["next"][0]
            assert roles[:2] == ["system", "user"] and roles[-1] == "tool"
            assert entry["answer"]["total_steps"] == len(roles)
            final = entry["answer"]["final_answer"]
            assert json.loads(final) == {"return_type": "give_answer", "final_answer": "Sunny"}


@pytest.mark.skipif(
    importlib.util.find_spec("toolsim.answers") is None, reason="toolsim.answers not written yet"
)
async def test_the_evaluator_loader_reads_our_runs(both_runs):
    from toolsim.answers import load_answer_sets

    for out in both_runs.values():
        (answers,) = load_answer_sets(out)
        assert answers.group == "example" and not answers.problems
        assert sorted(answers.answers) == ["1", "2"]
        answer = answers.answers["1"]
        assert answer.finished and answer.final_answer == "Sunny"
        assert answer.steps[0].function == WEATHER
        assert answer.record is not None and answer.record.status == "answered"

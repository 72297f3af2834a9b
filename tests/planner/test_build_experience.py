"""Building experience stores from reference-format answers: counts, helpfulness, labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolsim.cli import app
from toolsim.errors import UserError
from toolsim.planner.build import build_store, has_content, load_labels
from toolsim.planner.embeddings import HashedEmbedder
from toolsim.planner.experience import ExperienceStore

runner = CliRunner()


def tool(name: str, error: str = "", response: object = "data") -> dict:
    reply = json.dumps({"error": error, "response": response})
    return {"role": "tool", "message": {"name": name, "arguments": "{}", "response": reply}}


def chain(*nodes: dict) -> list[dict]:
    """A linear answer_details tree of the given nodes."""
    head: list[dict] = []
    for node in reversed(nodes):
        head = [{**node, "next": head}]
    return head


def entry(query: str, *nodes: dict) -> dict:
    return {
        "query": query,
        "available_tools": [],
        "answer": {
            "method": "CoT@1",
            "total_steps": len(nodes),
            "final_answer": json.dumps({"return_type": "give_answer", "final_answer": "ok"}),
            "answer_details": chain(*nodes),
        },
    }


@pytest.fixture
def answers(tmp_path: Path) -> Path:
    """A folder of converted answers (the reference format), group G1_instruction."""
    folder = tmp_path / "gpt_cot"
    folder.mkdir()
    data = {
        "1": entry(
            "weather in Lisbon",
            tool("weather", response={"temp": 20}),
            tool("weather", response={"temp": 21}),
            tool("fx", error="HTTP 500"),
        ),
        "2": entry("exchange rate EUR USD", tool("fx", response=""), tool("fx", response=[])),
        "3": entry("no tools needed"),
        "4": entry(
            "weather and rates", tool("weather", response="sunny"), tool("fx", response="1.1")
        ),
    }
    (folder / "G1_instruction.json").write_text(json.dumps(data))
    return folder


def uses(store: ExperienceStore, function: str) -> dict[str, tuple[int, bool]]:
    return {use.query.split("/")[-1]: (use.calls, use.helpful) for use in store.apis[function]}


def test_heuristic_helpfulness_and_call_counts(answers: Path) -> None:
    store, report = build_store([answers], HashedEmbedder())
    assert len(store) == 3 and report.without_calls == 1  # query 3 made no call
    assert set(store.texts) == {f"gpt_cot/G1_instruction/{q}" for q in ("1", "2", "4")}
    assert uses(store, "weather") == {"1": (2, True), "4": (1, True)}
    # An error reply and empty replies are not helpful.
    assert uses(store, "fx") == {"1": (1, False), "2": (2, False), "4": (1, True)}
    assert report.labelled == 0 and report.helpful == 3


def test_judge_labels_override_the_heuristic(answers: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"G1_instruction/2": "Solved", "4": "Unsolved", "1": "Unsure"}))
    store, report = build_store([answers], HashedEmbedder(), load_labels(labels))
    # Solved: calls without an error helped, even with empty content; Unsolved: nothing helped.
    assert uses(store, "fx") == {"1": (1, False), "2": (2, True), "4": (1, False)}
    assert uses(store, "weather") == {"1": (2, True), "4": (1, False)}
    assert report.labelled == 3


def test_labels_from_the_evaluators_pass_rate_report(tmp_path: Path) -> None:
    report = {
        "kind": "pass_rate",
        "entries": [
            {
                "groups": {
                    "G1": {
                        "outcomes": {
                            "1": [{"label": "Solved"}, {"label": "Solved"}, {"label": "Unsolved"}],
                            "2": [{"label": "Solved"}, {"label": "Unsolved"}],
                            "3": [{"label": "unscored"}],
                        }
                    }
                }
            }
        ],
    }
    path = tmp_path / "pass_rate.json"
    path.write_text(json.dumps(report))
    assert load_labels(path) == {"G1/1": "Solved", "G1/2": "Unsure"}


def test_bad_labels_are_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    path.write_text(json.dumps({"1": "Great"}))
    with pytest.raises(UserError, match=r"labels.json: 1: label 'Great' is not one of Solved"):
        load_labels(path)
    with pytest.raises(UserError, match="cannot read the labels file"):
        load_labels(tmp_path / "missing.json")


def test_content_heuristic() -> None:
    assert has_content(json.dumps({"error": "", "response": {"a": 1}}))
    assert has_content("plain text reply")
    for empty in ("", "{}", "[]", None, "  "):
        assert not has_content(json.dumps({"error": "", "response": empty}))


def test_build_experience_command_writes_appends_and_refuses_empty_input(
    answers: Path, tmp_path: Path
) -> None:
    out = tmp_path / "exp.json"
    args = ["planner", "build-experience", str(answers), "--out", str(out), "--embedder", "hashed"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "3 past queries" in first.output and "embedder hashed" in first.output
    again = runner.invoke(app, [*args, "--append"])
    assert again.exit_code == 0 and "3 past queries" in again.output  # same keys: replaced
    stored = json.loads(out.read_text())
    assert stored["embedder"] == {"name": "hashed", "dim": HashedEmbedder().dim}
    assert len(stored["apis"]["fx"]) == 3

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "G1.json").write_text(json.dumps({"3": entry("no tools needed")}))
    failed = runner.invoke(app, ["planner", "build-experience", str(empty), "--out", str(out)])
    assert failed.exit_code == 1
    assert "no answered query with tool calls" in failed.output
    assert len(json.loads(out.read_text())["apis"]["fx"]) == 3  # the old file is untouched

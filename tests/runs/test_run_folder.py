"""``toolsim.runs``: the run folder's layout, manifest and records, old files included."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from toolsim.answers import load_answer_sets
from toolsim.errors import UserError
from toolsim.evaluator.scoring.budget_metrics import over_budget
from toolsim.runs import (
    CallRecord,
    InvalidRunFile,
    QueryStatus,
    RunFolder,
    RunManifest,
    RunRecord,
    StepFailure,
)
from toolsim.runs.folder import is_run_metadata

WEATHER = "current_weather_for_skycast_weather"

#: A record as toolsim wrote it before model retries and parallel calls (no
#: ``model_retries``, ``model_retry_seconds``, nor a call's ``turn``).
OLD_RECORD: dict[str, Any] = {
    "format": 1,
    "query_id": "7",
    "group": "G1",
    "agent": "cot",
    "method": "CoT@1",
    "planner": "btp",
    "status": "answered",
    "final_answer": "12 degrees",
    "error": None,
    "model_calls": 3,
    "failed_model_calls": 0,
    "prompt_tokens": 900,
    "completion_tokens": 80,
    "tool_calls": 1,
    "rejected_calls": 1,
    "budget": 5,
    "cost": 6,
    "over_budget": True,
    "budget_exhausted": False,
    "calls": [
        {"function": WEATHER, "arguments": {"city": "Oslo"}, "cost": 6, "error": "",
         "rejected": None, "source": "simulated"},
        {"function": WEATHER, "arguments": {"city": "Rome"}, "cost": 0, "error": "no budget",
         "rejected": "over_budget", "source": "gate"},
    ],
    "plan": {"budget": 5, "spent": 6, "calls": {WEATHER: 1}, "rejections": {"over_budget": 1}},
    "failed_steps": [],
    "wall_seconds": 2.5,
    "finished": "2025-01-01T00:00:00+00:00",
}  # fmt: skip

#: A manifest from before ``param_names`` and ``action_mode`` existed.
OLD_MANIFEST: dict[str, Any] = {
    "toolsim": "0.1.0",
    "format": 1,
    "agent": "cot",
    "method": "CoT@1",
    "planner": "btp",
    "budget": 5,
    "costs": {"seed": 1, "low": 1, "high": 10, "prices": {}},
    "agent_model": "m",
    "queries": ["G1.json"],
    "limits": {"max_steps": 12, "width": 2, "max_model_calls": 200, "observation_chars": 1024},
    "started": "2025-01-01T00:00:00+00:00",
    "finished": "2025-01-01T00:01:00+00:00",
}

#: The record file's keys, in order: the format the agent has always written.
RECORD_KEYS = [
    "format", "query_id", "group", "agent", "method", "planner", "status", "final_answer",
    "error", "model_calls", "failed_model_calls", "model_retries", "model_retry_seconds",
    "prompt_tokens", "completion_tokens", "tool_calls", "rejected_calls", "budget", "cost",
    "over_budget", "budget_exhausted", "calls", "plan", "failed_steps", "wall_seconds",
    "finished",
]  # fmt: skip


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def _old_run(root: Path, *, record: dict[str, Any] = OLD_RECORD) -> RunFolder:
    run = RunFolder(root)
    _write(run.manifest_file, OLD_MANIFEST)
    _write(run.answer_file("G1", "7", "CoT@1"), {"answer_generation": {}})
    _write(run.record_file("G1", "7"), record)
    return run


def test_a_record_reads_back_as_written_with_its_keys_in_the_file_order() -> None:
    record = RunRecord(
        query_id="1",
        group="G",
        status=QueryStatus.GAVE_UP,
        calls=(CallRecord(function=WEATHER, arguments={"city": "Oslo"}, turn=0),),
        failed_steps=(StepFailure(depth=2, sibling=1, error="invalid JSON"),),
        model_retries=2,
        model_retry_seconds=1.5,
    )
    data = json.loads(json.dumps(record.to_json()))
    assert list(data) == RECORD_KEYS
    assert data["status"] == "gave_up" and data["calls"][0]["turn"] == 0
    assert list(data["calls"][0]) == [
        "function", "arguments", "cost", "error", "rejected", "source", "turn"
    ]  # fmt: skip
    assert RunRecord.from_json(data) == record


def test_an_old_record_reads_with_defaults_for_later_fields(tmp_path: Path) -> None:
    record = RunRecord.from_json(OLD_RECORD)
    assert record.status is QueryStatus.ANSWERED and record.status.done
    assert (record.model_retries, record.model_retry_seconds) == (0, 0.0)
    assert [call.turn for call in record.calls] == [None, None]
    assert [call.function for call in record.executed_calls] == [WEATHER]
    assert over_budget(record)

    run = _old_run(tmp_path / "old")
    assert run.finished_record("G1", "7", "CoT@1") == record  # a resumed run skips it
    (answers,) = load_answer_sets(run.root)
    assert not answers.problems and answers.manifest is not None
    assert answers.manifest.param_names == "documented" and answers.manifest.planner == "btp"
    assert answers.answers["7"].record == record  # no converted entry: still counted
    assert answers.answers["7"].finished and answers.answers["7"].final_answer == "12 degrees"


@pytest.mark.parametrize(
    ("change", "field"),
    [({"status": "exploded"}, "status"), ({"cost": "a lot"}, "cost"), ({"calls": {}}, "calls")],
)
def test_a_record_that_is_not_one_names_the_field(change: dict, field: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidRunFile, match=f"field '{field}"):
        RunRecord.from_json(OLD_RECORD | change)
    with pytest.raises(InvalidRunFile, match="expected a JSON object"):
        RunRecord.from_json([OLD_RECORD])
    # In a folder: a problem naming the file, the rest still read; never a finished query.
    run = _old_run(tmp_path / "bad", record=OLD_RECORD | change)
    problems: list[str] = []
    assert run.read_records("G1", problems) == {}
    assert len(problems) == 1
    assert problems[0].startswith(f"{run.record_file('G1', '7')}: not a run record: field '{field}")
    assert run.finished_record("G1", "7", "CoT@1") is None


@pytest.mark.parametrize("status", ["failed", "timeout"])
def test_failed_and_timed_out_queries_run_again(status: str, tmp_path: Path) -> None:
    run = _old_run(tmp_path / "run", record=OLD_RECORD | {"status": status})
    assert run.finished_record("G1", "7", "CoT@1") is None
    assert run.finished_record("G1", "8", "CoT@1") is None  # no record at all


def test_a_finished_record_needs_its_answer_file(tmp_path: Path) -> None:
    run = _old_run(tmp_path / "run")
    run.answer_file("G1", "7", "CoT@1").write_text("{", encoding="utf-8")
    assert run.finished_record("G1", "7", "CoT@1") is None


def test_manifests_old_and_new(tmp_path: Path) -> None:
    run = _old_run(tmp_path / "run")
    old = RunManifest.from_json(OLD_MANIFEST)
    assert "resumed" not in old.to_json() and old.to_json()["param_names"] == "documented"
    resumed = RunManifest.from_json(old.to_json() | {"resumed": "later"})
    assert list(resumed.to_json())[-3:] == ["started", "finished", "resumed"]
    # The same kind of run resumes; another planner is refused, naming both.
    assert run.check_compatible(old) == old
    other = RunManifest.from_json(OLD_MANIFEST | {"planner": "greedy"})
    with pytest.raises(UserError, match="planner='btp', not 'greedy'"):
        run.check_compatible(other)
    stb = RunManifest.from_json(OLD_MANIFEST | {"param_names": "stb"})
    with pytest.raises(UserError, match="param_names='documented', not 'stb'"):
        run.check_compatible(stb)


@pytest.mark.parametrize(
    ("content", "message"),
    [("{", r"run\.json: not valid JSON"), ('{"budget": "x"}', r"run\.json: field 'budget'")],
)
def test_a_broken_manifest_is_a_user_error_naming_it(
    content: str, message: str, tmp_path: Path
) -> None:
    run = _old_run(tmp_path / "run")
    run.manifest_file.write_text(content, encoding="utf-8")
    with pytest.raises(UserError, match=message):
        run.read_manifest()
    with pytest.raises(UserError, match="is not a run manifest"):
        run.check_compatible(RunManifest.from_json(OLD_MANIFEST))


def test_groups_include_those_with_records_only_and_metadata_is_told_apart(
    tmp_path: Path,
) -> None:
    run = _old_run(tmp_path / "run")
    _write(run.converted_file("G2"), {})
    assert run.groups() == ["G1", "G2"]
    assert is_run_metadata(run.manifest_file) and is_run_metadata(run.record_file("G1", "7"))
    assert not is_run_metadata(run.answer_file("G1", "7", "CoT@1"))
    assert not is_run_metadata(run.converted_file("G2"))
    (tmp_path / "loose").mkdir()
    assert not is_run_metadata(tmp_path / "loose" / "run.json")  # no run folder there


def test_records_and_answer_names_are_read_only_through_toolsim_runs() -> None:
    """One module owns the record and the answer-format names: no copy elsewhere."""
    package = Path(__file__).resolve().parents[2] / "toolsim"
    keyed = re.compile(r"""record\[["']|record\.get\(["']""")
    defined = re.compile(r"""^(FINISH|GIVE_ANSWER|GIVE_UP)\s*=""", re.MULTILINE)
    offenders = []
    for path in package.rglob("*.py"):
        if path.parent.name == "runs":
            continue
        text = path.read_text(encoding="utf-8")
        if keyed.search(text) or defined.search(text):
            offenders.append(str(path.relative_to(package)))
    assert offenders == []


def test_a_record_with_few_fields_reads_as_an_unfinished_query() -> None:
    record = RunRecord.from_json({"query_id": "1", "budget": 20, "cost": 25})
    assert record.status is QueryStatus.FAILED and not record.status.done
    assert over_budget(record) and record.calls == ()

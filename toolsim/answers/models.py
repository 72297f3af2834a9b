"""The answer of one query, and a group of them from one method or run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolsim.runs import RunManifest, RunRecord


@dataclass(frozen=True, slots=True)
class ToolStep:
    """One executed tool call found in a trajectory."""

    function: str
    #: The arguments as JSON text, exactly as the model wrote them.
    arguments: str
    #: JSON text of ``{"error": ..., "response": ...}`` as the agent observed it.
    response: str
    #: The reply's ``error`` field ("" if none or unparseable).
    error: str = ""


@dataclass(frozen=True, slots=True)
class Answer:
    """What an agent answered to one query, with the trajectory that led there."""

    query_id: str
    group: str
    query: str
    method: str
    #: The ``final_answer`` of the Finish call ("" if none).
    final_answer: str
    #: Reached Finish with ``return_type`` ``give_answer`` and a non-empty answer.
    finished: bool
    #: Tool calls in the trajectory (every tree node for DFS), in order; Finish excluded.
    steps: tuple[ToolStep, ...]
    available_tools: tuple[dict[str, Any], ...]
    #: The raw ``answer_details`` tree.
    details: object
    #: The toolsim record (``records/<group>/<id>.json``) when the folder is a run folder.
    record: RunRecord | None
    #: The file the answer came from.
    source: Path
    #: A reference judge's label per run ("Solved", "Unsolved", "Unsure"), when the file
    #: carries them (StableToolBench's pass-rate result format); empty otherwise.
    reference: tuple[str, ...] = ()


@dataclass
class AnswerSet:
    """The answers of one group from one method or run."""

    label: str
    group: str
    answers: dict[str, Answer]
    #: ``"file: what is wrong"`` for every entry that could not be read.
    problems: list[str] = field(default_factory=list)
    #: The run folder's ``run.json`` when the answers come from ``toolsim run``.
    manifest: RunManifest | None = None
    #: The folder or file the set was loaded from.
    source: Path | None = None


def query_order(query_id: str) -> tuple[int, str]:
    """Sort key of query ids: numeric ids by value first, then any others by text."""
    return (int(query_id), "") if query_id.isdigit() else (1 << 62, query_id)

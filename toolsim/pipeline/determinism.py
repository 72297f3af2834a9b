"""``toolsim bench --check-determinism``: replay a finished bench and demand the same world.

After the bench, the suite runs twice more with the tool cache in ``replay``
mode (a call never seen before is an error, never a new simulation), each time
into a fresh folder under ``OUT/determinism/``. Every query's tool calls and
replies, final answer and judge labels must equal the first run's; any
difference is listed. The agent's and judge's model replies come from their
caches, so a difference means something in the pipeline is not repeatable.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolsim.answers import load_answer_sets
from toolsim.cache.modes import CacheMode
from toolsim.evaluator.scoring.results import PassRateReport
from toolsim.settings import Settings

#: Where replays go, under the bench's output folder.
DETERMINISM_FOLDER = "determinism"

#: Differences listed in full; the rest are counted.
SHOWN = 20

Fingerprint = dict[tuple[str, str, str], dict[str, Any]]


@dataclass
class DeterminismResult:
    """The replays made, the queries compared and every difference found."""

    replays: int
    compared: int
    differences: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """No difference at all."""
        return not self.differences

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON form for ``determinism.json``."""
        return {
            "passed": self.passed,
            "replays": self.replays,
            "queries_compared": self.compared,
            "differences": self.differences,
        }


def fingerprint(runs_folder: Path, labels: list[str], report: PassRateReport) -> Fingerprint:
    """What must repeat, per (combination, group, query): tool replies, answer, judge labels."""
    prints: Fingerprint = {}
    for label in labels:
        entry = report.entry(label)
        for answer_set in load_answer_sets(runs_folder / label):
            outcomes = entry.groups.get(answer_set.group)
            for qid, answer in answer_set.answers.items():
                judged = outcomes.outcomes.get(qid, []) if outcomes else []
                prints[(label, answer_set.group, qid)] = {
                    "tool calls": [(s.function, s.arguments, s.response) for s in answer.steps],
                    "final answer": answer.final_answer,
                    "finished": answer.finished,
                    "judge labels": [outcome.label.value for outcome in judged],
                }
    return prints


def compare(first: Fingerprint, other: Fingerprint, name: str) -> list[str]:
    """Every way ``other`` differs from ``first``, as readable lines."""
    differences = []
    for key in sorted(first.keys() | other.keys()):
        where = "/".join(key)
        if key not in other:
            differences.append(f"{name}: {where} is missing")
            continue
        if key not in first:
            differences.append(f"{name}: {where} appeared")
            continue
        for aspect, value in first[key].items():
            if other[key][aspect] != value:
                change = _first_change(aspect, value, other[key][aspect])
                differences.append(f"{name}: {where}: {aspect} differ{change}")
    return differences


def _first_change(aspect: str, before: Any, after: Any) -> str:
    if aspect != "tool calls":
        return f" ({str(before)[:80]!r} vs {str(after)[:80]!r})"
    for number, (one, two) in enumerate(zip(before, after, strict=False)):
        if one != two:
            part = "reply" if one[:2] == two[:2] else "call"
            why = _failure_note(one[2]) if part == "reply" else ""
            return f" (call {number + 1}: the {part} changed, {one[0]}{why})"
    return f" ({len(before)} calls vs {len(after)})"


def _failure_note(observation: Any) -> str:
    """Why a reply can change: the first run's call failed, and failures are never cached."""
    try:
        reply = json.loads(observation)
    except (TypeError, ValueError):
        return ""
    if not isinstance(reply, dict) or not reply.get("error") or reply.get("response"):
        return ""
    return (
        f"; the first run got the error {str(reply['error'])[:80]!r}, which is never cached, so "
        "the replay answered the call from a reply stored later (a timeout under load, say)"
    )


def replay_settings(settings: Settings) -> Settings:
    """The same settings with the tool cache in replay mode."""
    return settings.model_copy(
        update={"cache": settings.cache.model_copy(update={"mode": CacheMode.REPLAY})}
    )


def replay_folder(out: Path, number: int) -> Path:
    """A fresh folder for replay ``number`` (any earlier replay there is removed)."""
    folder = Path(out) / DETERMINISM_FOLDER / f"replay-{number}"
    if folder.exists():
        shutil.rmtree(folder)
    return folder

"""Build an experience store from past answers (``toolsim planner build-experience``).

Every answered query that made tool calls becomes a past query (key
``<answer set label>/<group>/<query id>``), and every function it executed becomes
one use: how many times it was executed, and whether it helped.

Helpful:

* with a judge's label for the query (``--labels``): Solved -> a function helped if
  any of its calls answered without an error; Unsolved -> nothing helped; Unsure or
  no label -> the heuristic below;
* the heuristic: a function helped if any of its calls answered without an error
  and with content (a non-empty ``response``).

Call counts come from the run record when there is one (rejected calls excluded:
they were never executed), else from the trajectory.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolsim.errors import UserError
from toolsim.files import read_json
from toolsim.planner.embeddings import Embedder
from toolsim.planner.experience import ExperienceStore

LABELS = ("Solved", "Unsolved", "Unsure")


@dataclass
class BuildReport:
    """What was read: problems, counts, and where helpfulness came from."""

    problems: list[str] = field(default_factory=list)
    queries: int = 0
    without_calls: int = 0
    labelled: int = 0
    helpful: int = 0

    @property
    def helpful_source(self) -> str:
        """A one-line summary for the CLI."""
        heuristic = self.queries - self.labelled
        return f"judge labels for {self.labelled} queries, the heuristic for {heuristic}"


def has_content(response: str) -> bool:
    """Whether a ``{"error", "response"}`` JSON text carries a non-empty response."""
    try:
        data = json.loads(response)
    except (json.JSONDecodeError, TypeError):
        return bool(str(response or "").strip())
    value = data.get("response") if isinstance(data, dict) else data
    if isinstance(value, str):
        return value.strip() not in ("", "{}", "[]", "null", "None")
    return value not in (None, {}, [])


def _label_of(outcomes: Any) -> str | None:
    """The majority label of an evaluator's outcome list (ties: Unsure)."""
    votes = Counter(
        item.get("label") for item in outcomes if isinstance(item, dict) and item.get("label")
    )
    votes = Counter({label: n for label, n in votes.items() if label in LABELS})
    if not votes:
        return None
    ranked = votes.most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return "Unsure"
    return ranked[0][0]


def load_labels(path: Path | None) -> dict[str, str]:
    """Judge labels by ``group/query_id`` (and bare ``query_id``) from a labels file.

    Accepts the evaluator's ``pass_rate.json`` (``entries[].groups[].outcomes``) or a
    plain object of ``"group/query_id"`` or ``"query_id"`` -> Solved/Unsolved/Unsure.
    """
    if path is None:
        return {}
    data = read_json(path, "labels file")
    if not isinstance(data, dict):
        raise UserError(f"the labels file {path} must hold a JSON object")
    if data.get("kind") == "pass_rate":
        return _pass_rate_labels(data, path)
    labels = {}
    for key, label in data.items():
        if label not in LABELS:
            raise UserError(f"{path}: {key}: label {label!r} is not one of {', '.join(LABELS)}")
        labels[str(key)] = label
    return labels


def _pass_rate_labels(data: dict[str, Any], path: Path) -> dict[str, str]:
    outcomes: dict[str, list[Any]] = {}
    try:
        for entry in data["entries"]:
            for group, result in entry["groups"].items():
                for query_id, runs in result["outcomes"].items():
                    outcomes.setdefault(f"{group}/{query_id}", []).extend(runs)
    except (KeyError, TypeError, AttributeError) as exc:
        raise UserError(f"the pass-rate file {path} is malformed: {exc}") from None
    labels = {key: _label_of(runs) for key, runs in outcomes.items()}
    return {key: label for key, label in labels.items() if label is not None}


def _executed_counts(answer: Any) -> Counter[str]:
    record = answer.record
    if record is not None:
        return Counter(call.function for call in record.executed_calls if call.function)
    return Counter(step.function for step in answer.steps if step.function)


def _helpful(answer: Any, label: str | None) -> set[str]:
    if label == "Unsolved":
        return set()
    if label == "Solved":
        return {step.function for step in answer.steps if not step.error}
    return {step.function for step in answer.steps if not step.error and has_content(step.response)}


def build_store(
    paths: Sequence[Path], embedder: Embedder, labels: Mapping[str, str] | None = None
) -> tuple[ExperienceStore, BuildReport]:
    """Read answer folders/files and make a store embedded by ``embedder``."""
    from toolsim.answers import load_answer_sets

    labels = labels or {}
    store = ExperienceStore(embedder=embedder.name, dim=embedder.dim)
    report = BuildReport()
    found: list[tuple[str, Any, Counter[str], set[str]]] = []
    keys: set[str] = set()
    for path in paths:
        for answer_set in load_answer_sets(Path(path)):
            report.problems.extend(answer_set.problems)
            for query_id, answer in answer_set.answers.items():
                counts = _executed_counts(answer)
                if not answer.query.strip() or not counts:
                    report.without_calls += 1
                    continue
                label = labels.get(f"{answer.group}/{query_id}", labels.get(query_id))
                report.labelled += label in LABELS
                report.queries += 1
                key = base = f"{answer_set.label}/{answer.group}/{query_id}"
                while key in keys:  # two sets with one label: keep both
                    key = f"{base}#{len(keys)}"
                keys.add(key)
                found.append((key, answer, counts, _helpful(answer, label)))
    if not found:
        raise UserError("no answered query with tool calls in " + ", ".join(str(p) for p in paths))
    vectors = embedder.embed([answer.query for _, answer, _, _ in found])
    for (key, answer, counts, helpful), vector in zip(found, vectors, strict=True):
        store.add_query(key, answer.query, vector)
        for function, calls in counts.items():
            store.add_use(function, key, calls, function in helpful)
            report.helpful += function in helpful
    return store, report

"""``toolsim world check``: did the world an agent met contradict itself?

For each query of a finished run (or any answer folder), every tool reply the agent
saw is scanned with the world's extraction rules (:mod:`toolsim.world.extract`). A
*fact* is one field of one entity (scoped by tool); it was *seen twice* when two or
more distinct calls (function and arguments) showed it, and it *agrees* when they
all showed the same value (numbers compared as numbers, text without case or
surrounding spaces). Replies cut short for the agent are read up to their last
complete value.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolsim.answers.loader import load_answer_sets
from toolsim.answers.models import Answer
from toolsim.world.extract import decode, extract, norm

#: Disagreements kept in a report (the counts cover all of them).
MAX_SHOWN = 50


def comparable(value: Any) -> Any:
    """A fact's value as compared: numbers as numbers, text without case or outer spaces."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return value.strip().casefold()
    return value


def _arguments(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _split(function: str) -> tuple[str, str]:
    api, _, tool = function.rpartition("_for_")
    return (api, tool) if api else (function, "")


@dataclass
class ConsistencyReport:
    """Facts seen more than once in one query's tool replies, and how many agreed."""

    label: str
    queries: int = 0
    calls: int = 0
    entities: int = 0
    facts_seen_twice: int = 0
    agreeing: int = 0
    #: ``{query, entity, field, values}`` for the first disagreements.
    disagreements: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        """Agreeing facts over facts seen twice (None when no fact was seen twice)."""
        return self.agreeing / self.facts_seen_twice if self.facts_seen_twice else None

    def line(self) -> str:
        """One line for people: ``12/12 facts seen twice agree (100.0%)``."""
        if not self.facts_seen_twice:
            return f"no fact seen twice ({self.calls} tool calls in {self.queries} queries)"
        return (
            f"{self.agreeing}/{self.facts_seen_twice} facts seen twice agree "
            f"({100 * (self.rate or 0):.1f}%; {self.calls} tool calls in {self.queries} queries)"
        )

    def to_json(self) -> dict[str, Any]:
        """The report as JSON data."""
        return {
            "label": self.label,
            "queries": self.queries,
            "calls": self.calls,
            "entities": self.entities,
            "facts_seen_twice": self.facts_seen_twice,
            "agreeing": self.agreeing,
            "rate": self.rate,
            "disagreements": self.disagreements,
        }


def check_answer(answer: Answer, report: ConsistencyReport) -> None:
    """Add one query's trajectory to ``report``."""
    # (tool, entity id, field) -> {call: value}
    seen: dict[tuple[str, str, str], dict[tuple[str, str], Any]] = defaultdict(dict)
    entities: set[tuple[str, str]] = set()
    for step in answer.steps:
        report.calls += 1
        reply = decode(step.response)
        if not isinstance(reply, dict) or reply.get("error"):
            continue
        api, tool = _split(step.function)
        arguments = _arguments(step.arguments)
        call = (step.function, json.dumps(arguments, sort_keys=True))
        for entity in extract(reply.get("response"), arguments, api):
            entities.add((tool, entity.id))
            for name, value in entity.facts.items():
                seen[(tool, entity.id, norm(name))].setdefault(call, value)
    report.queries += 1
    report.entities += len(entities)
    for (tool, key, name), values in seen.items():
        if len(values) < 2:
            continue
        report.facts_seen_twice += 1
        if len({json.dumps(comparable(v)) for v in values.values()}) == 1:
            report.agreeing += 1
        elif len(report.disagreements) < MAX_SHOWN:
            report.disagreements.append(
                {
                    "query": answer.query_id,
                    "entity": f"{tool}/{key}",
                    "field": name,
                    "values": {f"{fn} {args}": v for (fn, args), v in values.items()},
                }
            )


def check_run(path: Path) -> list[ConsistencyReport]:
    """One report per answer set label under ``path`` (a run folder gives one)."""
    reports: dict[str, ConsistencyReport] = {}
    for answer_set in load_answer_sets(Path(path)):
        report = reports.setdefault(answer_set.label, ConsistencyReport(answer_set.label))
        for answer in answer_set.answers.values():
            check_answer(answer, report)
    return list(reports.values())

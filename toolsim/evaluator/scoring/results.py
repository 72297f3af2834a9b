"""What an evaluation produces: per-group and overall results, ready for JSON, CSV and HTML."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from toolsim import __version__
from toolsim.evaluator.judging.base import JudgeIdentity
from toolsim.evaluator.labels import Label, Preference, Round, Verdict
from toolsim.evaluator.scoring.aggregate import RateSummary
from toolsim.evaluator.scoring.budget_metrics import BudgetMetrics

PASS_LABELS = tuple(label.value for label in Label)
WIN_LABELS = tuple(preference.value for preference in Preference)
REPORT_FORMAT = 1


@dataclass(frozen=True, slots=True)
class JudgeUsage:
    """How many judge requests were made, and how many the cache answered."""

    model: str
    requests: int
    calls: int
    cached: int
    failed: int
    identity: JudgeIdentity | None = None

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON form for reports."""
        return {
            "model": self.model,
            "requests": self.requests,
            "calls_made": self.calls,
            "answered_from_cache": self.cached,
            "failed": self.failed,
            "identity": None if self.identity is None else self.identity.to_json(),
        }


@dataclass
class GroupResult:
    """The pass rate of one group of one answer set."""

    group: str
    rate: RateSummary
    counts: dict[str, int]
    outcomes: dict[str, list[Verdict]]
    budget: BudgetMetrics | None = None

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON form for reports, per-query labels included."""
        return {
            "queries": len(self.outcomes),
            "rate": self.rate.to_json(),
            "counts": self.counts,
            "budget": None if self.budget is None else self.budget.to_json(),
            "per_query": {
                qid: [outcome.to_json() for outcome in runs] for qid, runs in self.outcomes.items()
            },
        }


@dataclass
class EntryResult:
    """The pass rate of one answer folder (an agent, method or run) over its groups."""

    label: str
    #: Entries with the same system are repeated runs of one agent (for pass^k).
    system: str
    source: str
    groups: dict[str, GroupResult]
    overall: RateSummary
    counts: dict[str, int]
    budget: BudgetMetrics | None = None

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON form for reports."""
        return {
            "label": self.label,
            "system": self.system,
            "source": self.source,
            "overall": self.overall.to_json(),
            "counts": self.counts,
            "budget": None if self.budget is None else self.budget.to_json(),
            "groups": {name: group.to_json() for name, group in self.groups.items()},
        }


@dataclass(frozen=True, slots=True)
class PassK:
    """pass^k of one system over its repeated runs: ``values[k][group]`` (and ``"overall"``)."""

    system: str
    labels: tuple[str, ...]
    values: dict[int, dict[str, float | None]]

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON form for reports."""
        return {
            "system": self.system,
            "labels": list(self.labels),
            "trials": len(self.labels),
            "pass_hat_k": {
                str(k): {g: None if v is None else round(v, 4) for g, v in by_group.items()}
                for k, by_group in self.values.items()
            },
        }


def _header(kind: str) -> dict[str, Any]:
    return {"kind": kind, "format": REPORT_FORMAT, "toolsim": __version__}


@dataclass
class PassRateReport:
    """A Solvable Pass Rate evaluation of one or more answer folders."""

    runs: int
    entries: list[EntryResult]
    judge: JudgeUsage
    pass_k: list[PassK] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: Pass-rate differences (points) under this are within the bootstrap's noise at this n.
    noise_floor: float | None = None

    def entry(self, label: str) -> EntryResult:
        """The entry with this label."""
        for entry in self.entries:
            if entry.label == label:
                return entry
        raise KeyError(label)

    def to_json(self) -> dict[str, Any]:
        """The ``pass_rate.json`` document."""
        return {
            **_header("pass_rate"),
            "runs": self.runs,
            "judge": self.judge.to_json(),
            "seconds": round(self.seconds, 3),
            "noise_floor": None if self.noise_floor is None else round(self.noise_floor, 2),
            "problems": self.problems,
            "entries": [entry.to_json() for entry in self.entries],
            "pass_hat_k": [item.to_json() for item in self.pass_k],
        }


@dataclass
class WinGroup:
    """The win rate of the candidate over the reference in one group."""

    group: str
    rate: RateSummary
    counts: dict[str, int]
    rounds: dict[str, list[Round]]

    def to_json(self, candidate: str, reference: str) -> dict[str, Any]:
        """A plain-JSON form; per query, the rounds each side won (like the reference's)."""
        per_query = {}
        for qid, rounds in self.rounds.items():
            outcomes = [item.preference for item in rounds]
            per_query[qid] = {
                candidate: outcomes.count(Preference.WIN),
                reference: outcomes.count(Preference.LOSS),
                "ties": outcomes.count(Preference.TIE),
                "unscored": outcomes.count(Preference.UNSCORED),
                "rounds": [item.to_json() for item in rounds],
            }
        return {
            "queries": len(self.rounds),
            "rate": self.rate.to_json(),
            "counts": self.counts,
            "per_query": per_query,
        }


@dataclass
class WinRateReport:
    """A Solvable Win Rate evaluation: a candidate against a reference on shared queries."""

    candidate: str
    reference: str
    rounds: int
    groups: dict[str, WinGroup]
    overall: RateSummary
    counts: dict[str, int]
    judge: JudgeUsage
    #: The pass rates of both sides (their Solved status decides rounds first).
    pass_rate: PassRateReport
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The ``win_rate.json`` document."""
        return {
            **_header("win_rate"),
            "candidate": self.candidate,
            "reference": self.reference,
            "rounds": self.rounds,
            "judge": self.judge.to_json(),
            "seconds": round(self.seconds, 3),
            "problems": self.problems,
            "overall": self.overall.to_json(),
            "counts": self.counts,
            "groups": {
                name: group.to_json(self.candidate, self.reference)
                for name, group in self.groups.items()
            },
            "pass_rate": {
                entry.label: {
                    "overall": entry.overall.to_json(),
                    "groups": {g: r.rate.to_json() for g, r in entry.groups.items()},
                }
                for entry in self.pass_rate.entries
            },
        }

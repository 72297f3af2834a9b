"""What an evaluation produces: per-group and overall results, ready for JSON, CSV and HTML."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from toolsim import __version__
from toolsim.answers import Answer
from toolsim.evaluator.judging.base import JudgeIdentity
from toolsim.evaluator.judging.grounding import Evidence, evidence
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


@dataclass(frozen=True, slots=True)
class QueryView:
    """One query's answer as a report shows it beside its verdicts."""

    query: str
    final_answer: str
    #: The run record's status (``answered``, ``infrastructure``, ...), else whether the
    #: answer finished.
    status: str
    #: The tool calls made: ``(function, arguments, error)``.
    calls: tuple[tuple[str, str, str], ...] = ()

    @classmethod
    def of(cls, answer: Answer) -> QueryView:
        """What a report shows of ``answer``."""
        if answer.record is not None:
            status = answer.record.status.value
        else:
            status = "finished" if answer.finished else "unfinished"
        calls = tuple((step.function, step.arguments, step.error) for step in answer.steps)
        return cls(answer.query, answer.final_answer, status, calls)

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON form for reports."""
        return {
            "query": self.query,
            "final_answer": self.final_answer,
            "status": self.status,
            "calls": [
                {"function": function, "arguments": arguments, "error": error}
                for function, arguments, error in self.calls
            ],
        }


@dataclass
class GroupResult:
    """The pass rate of one group of one answer set."""

    group: str
    rate: RateSummary
    counts: dict[str, int]
    outcomes: dict[str, list[Verdict]]
    budget: BudgetMetrics | None = None
    #: The answers judged, by query id (for :attr:`evidence` and :attr:`views`).
    answers: dict[str, Answer] = field(default_factory=dict, repr=False)

    @functools.cached_property
    def evidence(self) -> dict[str, Evidence]:
        """Per query: what its answer's tool calls returned and how much of the answer rests
        on it (:class:`~toolsim.evaluator.judging.grounding.Evidence`), whatever the judge;
        computed when a report first asks, not while judging."""
        return {qid: evidence(answer) for qid, answer in self.answers.items()}

    @functools.cached_property
    def views(self) -> dict[str, QueryView]:
        """Per query: the query, the final answer and the calls made (what the verdicts
        judged), as a report shows them."""
        return {qid: QueryView.of(answer) for qid, answer in self.answers.items()}

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON form for reports, per-query labels, evidence and answers included."""
        return {
            "queries": len(self.outcomes),
            "rate": self.rate.to_json(),
            "counts": self.counts,
            "budget": None if self.budget is None else self.budget.to_json(),
            "per_query": {
                qid: [outcome.to_json() for outcome in runs] for qid, runs in self.outcomes.items()
            },
            "evidence": {
                qid: {**signals.to_json(), "summary": signals.summary()}
                for qid, signals in self.evidence.items()
            },
            "answers": {qid: view.to_json() for qid, view in self.views.items()},
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
    #: How the answers were made, from the run folder's manifest (agent, its model and
    #: prompts' hash, planner, budget, limits, simulator); empty for other answer files.
    setup: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON form for reports."""
        return {
            "label": self.label,
            "system": self.system,
            "source": self.source,
            "setup": self.setup,
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
    #: Damaged input files left out (``--skip-bad-files``): ``"path: reason"``.
    skipped_files: list[str] = field(default_factory=list)
    #: Queries unscored because the world failed the agent: ``"label group:id: why"``.
    infrastructure_failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: Pass-rate differences (points) under this are within the bootstrap's noise at this n.
    noise_floor: float | None = None

    @property
    def resolution(self) -> float | None:
        """The judge's measured resolution (points; :class:`JudgeIdentity`), or None."""
        return None if self.judge.identity is None else self.judge.identity.resolution

    def unresolved(self) -> list[tuple[str, str, float]]:
        """Pairs of entries whose overall pass rates differ by less than the judge's
        resolution (every pair when it is unmeasured): ``(label, label, difference)``."""
        rated = [e for e in self.entries if e.overall.mean is not None]
        pairs = []
        for index, first in enumerate(rated):
            for second in rated[index + 1 :]:
                difference = abs((first.overall.mean or 0.0) - (second.overall.mean or 0.0))
                if self.resolution is None or difference < self.resolution:
                    pairs.append((first.label, second.label, difference))
        return pairs

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
            "resolution": None if self.resolution is None else round(self.resolution, 2),
            "not_resolved_by_this_judge": [
                {"a": a, "b": b, "difference": round(difference, 2)}
                for a, b, difference in self.unresolved()
            ],
            "problems": self.problems,
            "skipped_files": self.skipped_files,
            "infrastructure_failures": self.infrastructure_failures,
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
    #: Damaged input files left out (``--skip-bad-files``): ``"path: reason"``.
    skipped_files: list[str] = field(default_factory=list)
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
            "skipped_files": self.skipped_files,
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

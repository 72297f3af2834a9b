"""From per-query labels to rates: per run, mean and deviation over runs, interval, counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from toolsim.evaluator.labels import SCORES, Label, Preference
from toolsim.evaluator.statistics import bootstrap_ci, mean_std

#: query id -> the label of each run (index = run).
Labels = Mapping[str, Sequence[StrEnum]]
Scorer = Callable[[Any], float | None]


def pass_score(label: Label) -> float | None:
    """Solved 1, Unsure 0.5, Unsolved 0, unscored None."""
    return SCORES.get(label)


def win_score(preference: Preference) -> float | None:
    """A win 1, a loss or a tie 0 (ties are non-wins), unscored None."""
    if preference is Preference.UNSCORED:
        return None
    return 1.0 if preference is Preference.WIN else 0.0


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass(frozen=True, slots=True)
class RateSummary:
    """A rate in percent: per run, mean and population deviation over runs, a 95% interval."""

    mean: float | None
    std: float | None
    runs: tuple[float | None, ...]
    ci: tuple[float, float] | None
    #: Queries with at least one scored run (the rest are excluded from the rate).
    scored: int

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON form for reports (numbers rounded to 4 decimals)."""
        return {
            "mean": _round(self.mean),
            "std": _round(self.std),
            "runs": [_round(value) for value in self.runs],
            "ci95": None if self.ci is None else [_round(self.ci[0]), _round(self.ci[1])],
            "scored_queries": self.scored,
        }


def _run_rate(labels: Labels, run: int, score: Scorer) -> float | None:
    scores = [
        value
        for per_run in labels.values()
        if run < len(per_run) and (value := score(per_run[run])) is not None
    ]
    return 100.0 * sum(scores) / len(scores) if scores else None


def _query_scores(labels: Labels, score: Scorer) -> list[float]:
    """Each query's mean score over its scored runs (queries never scored are left out)."""
    result = []
    for per_run in labels.values():
        scores = [value for label in per_run if (value := score(label)) is not None]
        if scores:
            result.append(100.0 * sum(scores) / len(scores))
    return result


def summarize(strata: Sequence[Labels], runs: int, score: Scorer = pass_score) -> RateSummary:
    """The rate of one group (one stratum) or the average over groups (several).

    Per run, a group's rate is the mean score of its scored queries and the
    average is the mean of the group rates; the mean and deviation are taken
    over runs. The interval resamples queries within their groups.
    """
    per_run: list[float | None] = []
    for run in range(runs):
        rates = [rate for labels in strata if (rate := _run_rate(labels, run, score)) is not None]
        per_run.append(sum(rates) / len(rates) if rates else None)
    mean, std = mean_std(per_run)
    query_scores = [_query_scores(labels, score) for labels in strata]
    return RateSummary(
        mean=mean,
        std=std,
        runs=tuple(per_run),
        ci=bootstrap_ci(query_scores),
        scored=sum(len(scores) for scores in query_scores),
    )


def count_labels(labels: Labels, names: Sequence[str]) -> dict[str, int]:
    """How often each label occurs over all queries and runs, every name listed."""
    counted = Counter(label.value for per_run in labels.values() for label in per_run)
    return {name: counted.get(name, 0) for name in names}

"""The evaluator's statistics: rates over runs and agreement between judges.

Rates: mean and deviation over runs, bootstrap intervals, pass^k, the noise floor.
Agreement between a judge and reference labels: accuracy, Cohen's kappa, confusion,
Spearman. Labels are plain strings ("Solved", "Unsolved", "Unsure", "unscored", ...);
a judge label that is not the reference's (an Unsure, an unscored verdict) simply
counts as a disagreement. Intervals are seeded percentile bootstraps over items.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Bootstrap resamples; 1,000 puts the 2.5/97.5 percentiles within about 0.5 points.
RESAMPLES = 1000
LEVEL = 0.95


def mean_std(values: Sequence[float | None]) -> tuple[float | None, float | None]:
    """Mean and population standard deviation (numpy's default) of the values that exist."""
    present = [value for value in values if value is not None]
    if not present:
        return None, None
    mean = sum(present) / len(present)
    variance = sum((value - mean) ** 2 for value in present) / len(present)
    return mean, math.sqrt(variance)


def bootstrap_ci(
    strata: Sequence[Sequence[float]], *, resamples: int = RESAMPLES, seed: int = 0
) -> tuple[float, float] | None:
    """A percentile bootstrap interval of the mean of stratum means.

    ``strata`` are the per-query scores of each group; queries are resampled
    within their group, and each resample's statistic is the mean of the group
    means, so the overall interval matches how the overall rate is defined.
    Seeded: the same scores always give the same interval.
    """
    arrays = [np.asarray(scores, dtype=float) for scores in strata if len(scores)]
    if not arrays:
        return None
    rng = np.random.default_rng(seed)
    statistic = np.zeros(resamples)
    for scores in arrays:
        picks = rng.integers(0, len(scores), size=(resamples, len(scores)))
        statistic += scores[picks].mean(axis=1)
    statistic /= len(arrays)
    tail = (1 - LEVEL) / 2
    low, high = np.quantile(statistic, [tail, 1 - tail])
    return float(low), float(high)


def pass_hat_k(successes: int, trials: int, k: int) -> float:
    """The chance that k trials drawn from ``trials`` all succeed, given ``successes`` did.

    The unbiased estimator C(c, k) / C(n, k): with k = n it is 1 only when every
    trial succeeded, with k = 1 it is the plain success rate.
    """
    if not 1 <= k <= trials:
        raise ValueError(f"k must be between 1 and {trials}")
    return math.comb(successes, k) / math.comb(trials, k)


def noise_floor(summaries: Sequence[object]) -> float | None:
    """The smallest pass-rate difference (points) two systems of this size can be told apart by.

    Each summary's 95% bootstrap interval has a half-width h; the difference of two
    independent rates then has a 95% half-width of about sqrt(h1^2 + h2^2), so with
    the widest interval of the report as both, differences under sqrt(2) * h are noise.
    """
    widths = [
        (ci[1] - ci[0]) / 2
        for summary in summaries
        if (ci := getattr(summary, "ci", None)) is not None
    ]
    return math.sqrt(2) * max(widths) if widths else None


def majority(labels: Sequence[str]) -> str | None:
    """The label more than half the runs gave, or None."""
    if not labels:
        return None
    label, count = Counter(labels).most_common(1)[0]
    return label if 2 * count > len(labels) else None


def accuracy(reference: Sequence[str], judged: Sequence[str]) -> float | None:
    """The share of items on which both say the same."""
    if not reference:
        return None
    return sum(a == b for a, b in zip(reference, judged, strict=True)) / len(reference)


def kappa(reference: Sequence[str], judged: Sequence[str]) -> float | None:
    """Cohen's kappa: agreement beyond what the two label frequencies give by chance."""
    n = len(reference)
    if not n:
        return None
    observed = accuracy(reference, judged)
    assert observed is not None
    first, second = Counter(reference), Counter(judged)
    expected = sum(first[label] * second[label] for label in first) / (n * n)
    if expected >= 1.0:
        return 1.0 if observed == 1.0 else 0.0
    return (observed - expected) / (1.0 - expected)


def confusion(reference: Sequence[str], judged: Sequence[str]) -> dict[str, dict[str, int]]:
    """``{reference label: {judge label: count}}`` over the labels that occur."""
    table: dict[str, dict[str, int]] = {}
    for a, b in zip(reference, judged, strict=True):
        row = table.setdefault(a, {})
        row[b] = row.get(b, 0) + 1
    return table


def _ranks(values: Sequence[float]) -> list[float]:
    """Ranks from 1, ties given their mean rank."""
    order = sorted(range(len(values)), key=lambda index: values[index])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def spearman(first: Sequence[float], second: Sequence[float]) -> float | None:
    """Spearman's rank correlation (Pearson's on mean ranks); None under 3 items or no spread."""
    if len(first) < 3:
        return None
    a, b = _ranks(first), _ranks(second)
    mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - mean_a) * (y - mean_b) for x, y in zip(a, b, strict=True))
    spread = math.sqrt(sum((x - mean_a) ** 2 for x in a) * sum((y - mean_b) ** 2 for y in b))
    return cov / spread if spread else None


def pairwise(runs: Sequence[Sequence[str]]) -> tuple[float | None, float | None, int]:
    """Accuracy and kappa between every two runs of the same judge (pooled), and the pairs.

    ``runs[i]`` holds item i's labels in run order; items with fewer than two runs
    take no part.
    """
    first: list[str] = []
    second: list[str] = []
    for labels in runs:
        for i in range(len(labels)):
            for j in range(i + 1, len(labels)):
                first.append(labels[i])
                second.append(labels[j])
    return accuracy(first, second), kappa(first, second), len(first)


def bootstrap(
    reference: Sequence[str],
    judged: Sequence[str],
    *,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> dict[str, tuple[float, float] | None]:
    """95% percentile intervals of accuracy and kappa, resampling items (seeded)."""
    n = len(reference)
    if n < 2:
        return {"accuracy": None, "kappa": None}
    names = sorted(set(reference) | set(judged))
    code = {name: index for index, name in enumerate(names)}
    ref = np.array([code[label] for label in reference])
    jud = np.array([code[label] for label in judged])
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n, size=(resamples, n))
    a, b = ref[picks], jud[picks]
    observed = (a == b).mean(axis=1)
    expected = np.zeros(resamples)
    for index in range(len(names)):
        expected += (a == index).mean(axis=1) * (b == index).mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappas = np.where(expected < 1.0, (observed - expected) / (1.0 - expected), 1.0)
    tail = (1 - LEVEL) / 2

    def interval(values: np.ndarray) -> tuple[float, float]:
        low, high = np.quantile(values, [tail, 1 - tail])
        return float(low), float(high)

    return {"accuracy": interval(observed), "kappa": interval(kappas)}


@dataclass(frozen=True, slots=True)
class Agreement:
    """How often a judge agrees with the reference majority on a set of items."""

    n: int
    accuracy: float | None
    kappa: float | None
    accuracy_ci: tuple[float, float] | None
    kappa_ci: tuple[float, float] | None
    confusion: dict[str, dict[str, int]]

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON form for reports."""

        def rounded(value: Any) -> Any:
            if value is None:
                return None
            if isinstance(value, tuple):
                return [round(part, 4) for part in value]
            return round(value, 4)

        return {
            "n": self.n,
            "accuracy": rounded(self.accuracy),
            "kappa": rounded(self.kappa),
            "accuracy_ci95": rounded(self.accuracy_ci),
            "kappa_ci95": rounded(self.kappa_ci),
            "confusion": self.confusion,
        }

    def describe(self) -> str:
        """E.g. ``"85.3% (kappa 0.68), n=3460"``."""
        if self.accuracy is None:
            return "n/a (n=0)"
        kappa_text = "n/a" if self.kappa is None else f"{self.kappa:.2f}"
        return f"{100 * self.accuracy:.1f}% (kappa {kappa_text}), n={self.n}"


def agreement(reference: Sequence[str], judged: Sequence[str], *, seed: int = 0) -> Agreement:
    """Accuracy, kappa, their intervals and the confusion matrix of paired labels."""
    intervals = bootstrap(reference, judged, seed=seed)
    return Agreement(
        n=len(reference),
        accuracy=accuracy(reference, judged),
        kappa=kappa(reference, judged),
        accuracy_ci=intervals["accuracy"],
        kappa_ci=intervals["kappa"],
        confusion=confusion(reference, judged),
    )

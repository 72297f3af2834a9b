"""Statistics of rates: mean and deviation over runs, bootstrap intervals, pass^k."""

from __future__ import annotations

import math
from collections.abc import Sequence

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

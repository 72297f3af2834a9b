"""Scoring a simulator and its baselines over recorded calls: means, intervals, wins.

Each method (the simulator, and the baselines every report scores on the same calls)
gets per measure a mean over the calls where it is defined with a 95% bootstrap
interval, and BLEU-4 one corpus score with a bootstrap interval. A simulator figure
is a *win* only when it beats every baseline scored on the same calls beyond noise:
the 95% paired bootstrap interval of the difference is above 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from toolsim.evaluator.statistics import LEVEL, RESAMPLES, bootstrap_ci
from toolsim.fidelity.measures import (
    MEASURES,
    BleuStats,
    bleu_of_sums,
    corpus_bleu,
    flat_stats,
)

SIMULATOR = "simulator"
#: The baselines every report scores on the same calls, by name, with what they answer.
BASELINES = {
    "empty": "a constant empty object {}",
    "same_api": "another recorded reply of the same API",
    "other_api": "a recorded reply of another API",
}
#: The two sets of calls a report scores: every compared call, and those whose API has
#: another recorded reply (every baseline and leave-one-out adaptation defined there).
SCOPES = {"all": "every compared call", "with_other": "calls whose API has another recorded reply"}
SPLITS = ("all", "tune", "test")
#: Measures shown per method: the structural four and BLEU-4.
COLUMNS = (*MEASURES, "bleu")


@dataclass
class Score:
    """One measure's mean over calls, its interval and how many calls defined it."""

    mean: float | None
    ci: tuple[float, float] | None
    n: int

    def to_json(self) -> dict[str, Any]:
        """The score as JSON data (rounded)."""
        return {
            "mean": None if self.mean is None else round(self.mean, 4),
            "ci95": None if self.ci is None else [round(self.ci[0], 4), round(self.ci[1], 4)],
            "n": self.n,
        }


def score(values: Sequence[float | None]) -> Score:
    """Mean and bootstrap interval of the defined values."""
    present = [value for value in values if value is not None]
    if not present:
        return Score(None, None, 0)
    return Score(sum(present) / len(present), bootstrap_ci([present]), len(present))


def bleu_score(stats: Sequence[BleuStats], *, seed: int = 0) -> Score:
    """Corpus BLEU-4 of the calls, with a percentile bootstrap interval over calls."""
    value = corpus_bleu(stats)
    if value is None:
        return Score(None, None, 0)
    rows = np.array([flat_stats(s) for s in stats], dtype=float)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(rows), size=(RESAMPLES, len(rows)))
    samples = bleu_of_sums(rows[picks].sum(axis=1))
    tail = (1 - LEVEL) / 2
    low, high = np.quantile(np.array(samples, dtype=float), [tail, 1 - tail])
    return Score(value, (float(low), float(high)), len(stats))


def summarize(
    results: Sequence[dict[str, Any]], method: str, *, bleu_interval: bool = True
) -> dict[str, Score]:
    """A method's scores over calls: each measure's mean, and corpus BLEU-4."""
    rows = [r["scores"][method] for r in results if r["scores"].get(method) is not None]
    scores = {name: score([row[name] for row in rows]) for name in MEASURES}
    stats = [tuple(row["bleu"]) for row in rows if row["bleu"]]
    if bleu_interval:
        scores["bleu"] = bleu_score(stats)
    else:
        value = corpus_bleu(stats)
        scores["bleu"] = Score(value, None, len(stats) if value is not None else 0)
    return scores


def _paired_low(results: Sequence[dict[str, Any]], baseline: str, name: str) -> float | None:
    """The lower end of the 95% bootstrap interval of (simulator - baseline) on the calls
    where both are scored: per-call differences for a measure, corpus BLEU for BLEU."""
    pairs = [
        (r["scores"][SIMULATOR], r["scores"][baseline])
        for r in results
        if r["scores"].get(baseline) is not None
    ]
    rng = np.random.default_rng(0)
    tail = (1 - LEVEL) / 2
    if name != "bleu":
        diffs = np.array(
            [a[name] - b[name] for a, b in pairs if a[name] is not None and b[name] is not None]
        )
        if not len(diffs):
            return None
        picks = rng.integers(0, len(diffs), size=(RESAMPLES, len(diffs)))
        return float(np.quantile(diffs[picks].mean(axis=1), tail))
    both = [(a["bleu"], b["bleu"]) for a, b in pairs if a["bleu"] and b["bleu"]]
    if not both:
        return None
    rows = np.array([[*flat_stats(a), *flat_stats(b)] for a, b in both], dtype=float)
    sums = rows[rng.integers(0, len(rows), size=(RESAMPLES, len(rows)))].sum(axis=1)
    return float(np.quantile(bleu_of_sums(sums[:, :10]) - bleu_of_sums(sums[:, 10:]), tail))


def _wins(
    results: Sequence[dict[str, Any]], rows: dict[str, dict[str, Score]]
) -> dict[str, bool | None]:
    """Per measure: does the simulator beat every baseline scored on the same calls (None:
    no simulator figure)? Beating means a higher mean *and* a paired 95% bootstrap interval
    of the difference above 0; a baseline undefined on some calls is not compared."""
    n = len(results)
    same_calls = [b for b in BASELINES if rows[b]["outcome"].n == n]
    wins: dict[str, bool | None] = {}
    for name in COLUMNS:
        if rows[SIMULATOR][name].mean is None:
            wins[name] = None
            continue
        lows = [_paired_low(results, b, name) for b in same_calls if rows[b][name].mean is not None]
        wins[name] = all(low is not None and low > 0 for low in lows)
    return wins


def scope_scores(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Every method's scores over one set of calls, and the simulator's wins."""
    rows = {method: summarize(results, method) for method in (SIMULATOR, *BASELINES)}
    return {"n": len(results), "rows": rows, "wins": _wins(results, rows)}

"""BTP's value and cap of an API, from weighted past uses (REFERENCE.md section 7).

A past use is one earlier query that called the API: its similarity weight
``w = exp((cos - 1) / T)`` to the new query, how many times it called the API, and
whether that helped. Then:

* value ``v = (sum w*helpful + 0.1) / (sum w + 1.0)``; an API never used before gets
  ``v = 0.1`` and cap 1;
* cap 0 when ``v < 0.15``; else ``round(sum w*n / sum w)`` where ``n`` is the call
  count, counted as ``min(n, 1)`` when the use was unhelpful (Python's ``round``:
  halves go to the even neighbour).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Temperature of the similarity weight.
TEMPERATURE = 1.0
#: Pseudo-count added to the helpful weight and to the total weight.
PRIOR_HELPFUL = 0.1
PRIOR_WEIGHT = 1.0
#: Value and cap of an API with no past use.
UNSEEN_VALUE = 0.1
UNSEEN_CAP = 1
#: Below this value an API is not planned at all.
VALUE_THRESHOLD = 0.15


@dataclass(frozen=True, slots=True)
class Use:
    """One past query's use of an API, weighted by that query's similarity to the new one."""

    weight: float
    calls: int
    helpful: bool


@dataclass(frozen=True, slots=True)
class ApiEstimate:
    """An API's value per call, its call cap, and what they were computed from."""

    value: float
    cap: int
    uses: int
    weight: float
    reason: str
    #: Value of the 1st, 2nd, ... call, for the multiple-choice planner (diminishing).
    marginals: tuple[float, ...] = ()


def similarity_weight(cosine: float, temperature: float = TEMPERATURE) -> float:
    """``exp((cos - 1) / T)``: 1 for the same query, smaller for less similar ones."""
    return math.exp((cosine - 1.0) / temperature)


def estimate(uses: Sequence[Use]) -> ApiEstimate:
    """The value and cap of an API from its weighted past uses."""
    return estimate_arrays(
        np.array([use.weight for use in uses], dtype=np.float64),
        np.array([use.calls for use in uses], dtype=np.int64),
        np.array([use.helpful for use in uses], dtype=bool),
    )


def estimate_arrays(weights: np.ndarray, calls: np.ndarray, helpful: np.ndarray) -> ApiEstimate:
    """:func:`estimate` over parallel arrays (one entry per past use), for speed."""
    if len(weights) == 0:
        return ApiEstimate(
            UNSEEN_VALUE, UNSEEN_CAP, 0, 0.0, "never used before", marginals=(UNSEEN_VALUE,)
        )
    weight = float(weights.sum())
    useful = float(weights[helpful].sum())
    value = (useful + PRIOR_HELPFUL) / (weight + PRIOR_WEIGHT)
    summary = f"{len(weights)} past uses, {useful:.2f} of weight {weight:.2f} helpful"
    if value < VALUE_THRESHOLD:
        return ApiEstimate(
            value, 0, len(weights), weight, f"{summary}: value below {VALUE_THRESHOLD}"
        )
    # An unhelpful use says the API was tried, not that it needed repeating.
    counts = np.where(helpful, calls, np.minimum(calls, 1))
    expected = float((weights * counts).sum()) / weight
    # The j-th call is worth v times the weighted share of past uses that made >= j calls.
    marginals = tuple(
        value * float(weights[counts >= j].sum()) / weight for j in range(1, int(counts.max()) + 1)
    )
    reason = f"{summary}; {expected:.2f} calls expected"
    return ApiEstimate(value, round(expected), len(weights), weight, reason, marginals)

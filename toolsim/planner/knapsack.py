"""Exact knapsack solvers for call plans: bounded (BTP) and multiple-choice (diminishing values).

Both maximise the total value of the calls under an integer budget, and among the
optimal plans return the cheapest; among those, the one with the most calls of the
earliest API, then of the next one, and so on (lexicographically greatest counts).

Values are floats, so "optimal" and "tie" are made exact by quantising every value
to an integer number of :data:`VALUE_QUANTUM` (1e-9) before solving: two plans whose
values differ by less than that are equal. The dynamic programme runs over the
exact cost spent, API by API from the last to the first (a suffix table), which
makes the tie rules easy to honour when walking back from the first API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from toolsim.errors import UserError

#: Values are compared as integer multiples of this.
VALUE_QUANTUM = 1e-9
_SCALE = 1 / VALUE_QUANTUM
# Unreachable costs hold this (or this plus some values: still far below zero, and far
# from overflow). Real plan values are >= 0, so "reachable" is simply ">= 0".
_UNREACHABLE = np.int64(-(1 << 62))


@dataclass(frozen=True, slots=True)
class Solution:
    """Chosen call counts (in API order), their total cost and total value."""

    counts: tuple[int, ...]
    cost: int
    value: float


def _check_cost(cost: object, name: str) -> int:
    # bool is an int subclass, and 2.0 is not an integer cost either: both are mistakes.
    if isinstance(cost, bool) or not isinstance(cost, int | np.integer):
        raise UserError(f"{name}: a call cost must be an integer >= 1, got {cost!r}")
    if cost < 1:
        raise UserError(f"{name}: a call cost must be an integer >= 1, got {cost!r}")
    return int(cost)


def _check_budget(budget: object) -> int:
    if isinstance(budget, bool) or not isinstance(budget, int | np.integer) or budget < 0:
        raise UserError(f"a budget must be an integer >= 0, got {budget!r}")
    return int(budget)


def _quantise(value: float, name: str) -> int:
    if not np.isfinite(value) or value < 0:
        raise UserError(f"{name}: a value must be a finite number >= 0, got {value!r}")
    return round(value * _SCALE)


def _shifted(table: np.ndarray, shift: int, gain: int) -> np.ndarray:
    """``table[c - shift] + gain`` for every c (unreachable below ``shift``)."""
    out = np.full_like(table, _UNREACHABLE)
    if shift < len(table):
        out[shift:] = table[: len(table) - shift] + gain
    return out


def _solve(
    costs: Sequence[int], options: Sequence[Sequence[int]], budget: int, bounded: bool
) -> Solution:
    """Shared core: ``options[i][j]`` is the quantised value of j calls of API i."""
    n = len(costs)
    size = budget + 1
    # suffix[i][c]: best value of APIs i.. spending exactly c.
    suffix = np.full((n + 1, size), _UNREACHABLE, dtype=np.int64)
    suffix[n, 0] = 0
    for i in range(n - 1, -1, -1):
        row = suffix[i + 1].copy()
        cost, values = costs[i], options[i]
        most = min(len(values) - 1, budget // cost)
        if bounded and most > 0:
            # Linear values: binary splitting covers every count 0..most in log steps.
            unit, left, piece = values[1], most, 1
            while left > 0:
                take = min(piece, left)
                row = np.maximum(row, _shifted(row, take * cost, take * unit))
                left -= take
                piece *= 2
        else:
            base = row
            for j in range(1, most + 1):
                row = np.maximum(row, _shifted(base, j * cost, values[j]))
        suffix[i] = row
    best = int(suffix[0].max())
    spent = int(np.flatnonzero(suffix[0] == best)[0])  # the cheapest optimal cost
    counts: list[int] = []
    left_cost, left_value = spent, best
    for i in range(n):
        cost, values = costs[i], options[i]
        most = min(len(values) - 1, left_cost // cost)
        for j in range(most, -1, -1):  # most calls first: ties favour earlier APIs
            rest = suffix[i + 1, left_cost - j * cost]
            if rest >= 0 and rest + values[j] == left_value:
                counts.append(j)
                left_cost -= j * cost
                left_value -= values[j]
                break
        else:  # pragma: no cover - the table guarantees a decomposition
            raise AssertionError("knapsack walk-back found no decomposition")
    return Solution(tuple(counts), spent, best / _SCALE)


def bounded_knapsack(
    costs: Sequence[int],
    values: Sequence[float],
    caps: Sequence[int],
    budget: int,
    names: Sequence[str] | None = None,
) -> Solution:
    """Maximise ``sum(values[i] * F[i])`` within the budget, with ``0 <= F[i] <= caps[i]``.

    The budget constraint is ``sum(costs[i] * F[i]) <= budget``. Costs must be integers
    >= 1 (a :class:`UserError` names the API otherwise).
    """
    names = names or [f"API {i}" for i in range(len(costs))]
    if not len(costs) == len(values) == len(caps) == len(names):
        raise ValueError("costs, values, caps and names must have the same length")
    budget = _check_budget(budget)
    checked = [_check_cost(c, name) for c, name in zip(costs, names, strict=True)]
    options = []
    for value, cap, name in zip(values, caps, names, strict=True):
        if isinstance(cap, bool) or not isinstance(cap, int | np.integer) or cap < 0:
            raise UserError(f"{name}: a cap must be an integer >= 0, got {cap!r}")
        unit = _quantise(value, name)
        # Zero-valued calls only cost money: never worth planning.
        options.append([j * unit for j in range(int(cap) + 1)] if unit > 0 else [0])
    return _solve(checked, options, budget, bounded=True)


def multiple_choice_knapsack(
    costs: Sequence[int],
    marginals: Sequence[Sequence[float]],
    budget: int,
    names: Sequence[str] | None = None,
) -> Solution:
    """Choose call counts where the j-th call of API i is worth ``marginals[i][j-1]``.

    Meant for diminishing per-call values, but exact for any non-negative ones: the
    value of F calls is the sum of the first F marginals, at most ``len(marginals[i])``.
    """
    names = names or [f"API {i}" for i in range(len(costs))]
    if not len(costs) == len(marginals) == len(names):
        raise ValueError("costs, marginals and names must have the same length")
    budget = _check_budget(budget)
    checked = [_check_cost(c, name) for c, name in zip(costs, names, strict=True)]
    options = []
    for values, name in zip(marginals, names, strict=True):
        prefix = [0]
        for value in values:
            prefix.append(prefix[-1] + _quantise(value, name))
        options.append(prefix)
    return _solve(checked, options, budget, bounded=False)

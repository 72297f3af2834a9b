"""The knapsack solvers against brute force on random small instances, and their input checks."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolsim.errors import UserError
from toolsim.planner.knapsack import VALUE_QUANTUM, bounded_knapsack, multiple_choice_knapsack

# Values with many exact ties (multiples of 0.05) and some arbitrary floats.
values_st = st.one_of(
    st.integers(0, 20).map(lambda k: k * 0.05),
    st.floats(0, 1, allow_nan=False, allow_infinity=False),
)


def q(value: float) -> int:
    """The documented quantisation: values compare as integer multiples of 1e-9."""
    return round(value / VALUE_QUANTUM)


def brute_force(costs, option_values, budget):
    """The expected plan: max value, then min cost, then lexicographically greatest counts."""
    ranges = [range(len(options)) for options in option_values]
    best = None
    for counts in itertools.product(*ranges):
        cost = sum(c * n for c, n in zip(costs, counts, strict=True))
        if cost > budget:
            continue
        value = sum(options[n] for options, n in zip(option_values, counts, strict=True))
        key = (value, -cost, counts)
        if best is None or key > best[0]:
            best = (key, counts, cost, value)
    return best


instances = st.integers(0, 4).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(1, 6), min_size=n, max_size=n),
        st.lists(values_st, min_size=n, max_size=n),
        st.lists(st.integers(0, 3), min_size=n, max_size=n),
        st.integers(0, 15),
    )
)


@settings(max_examples=300, deadline=None)
@given(instances)
def test_bounded_matches_brute_force(instance) -> None:
    costs, values, caps, budget = instance
    solution = bounded_knapsack(costs, values, caps, budget)
    options = [[j * q(v) for j in range(cap + 1)] for v, cap in zip(values, caps, strict=True)]
    _, counts, cost, value = brute_force(costs, options, budget)
    # Same value as brute force; within budget and caps; the cheapest optimum; the same tie.
    assert q(solution.value) == value
    assert solution.cost == sum(c * n for c, n in zip(costs, solution.counts, strict=True))
    assert solution.cost <= budget
    assert all(0 <= n <= cap for n, cap in zip(solution.counts, caps, strict=True))
    assert solution.cost == cost
    assert solution.counts == counts


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 4).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(1, 6), min_size=n, max_size=n),
            st.lists(st.lists(values_st, max_size=3), min_size=n, max_size=n),
            st.integers(0, 15),
        )
    )
)
def test_multiple_choice_matches_brute_force(instance) -> None:
    costs, marginals, budget = instance
    solution = multiple_choice_knapsack(costs, marginals, budget)
    options = [list(itertools.accumulate([0, *map(q, values)])) for values in marginals]
    _, counts, cost, value = brute_force(costs, options, budget)
    assert q(solution.value) == value
    assert solution.cost == cost <= budget
    assert solution.counts == counts
    assert all(n <= len(values) for n, values in zip(solution.counts, marginals, strict=True))


def test_ties_favour_earlier_apis_and_cheaper_plans() -> None:
    # A alone and B+C are worth the same and cost the same: A (earlier) wins.
    assert bounded_knapsack([2, 1, 1], [0.5, 0.25, 0.25], [1, 1, 1], 5).counts == (1, 1, 1)
    assert bounded_knapsack([2, 1, 1], [0.5, 0.25, 0.25], [1, 1, 1], 2).counts == (1, 0, 0)
    # Same value for less money: the cheaper API, though it comes later.
    assert bounded_knapsack([3, 1], [0.4, 0.4], [1, 1], 3).counts == (0, 1)
    # Zero-valued calls are never bought.
    assert bounded_knapsack([1], [0.0], [5], 10).counts == (0,)


def test_diminishing_values_stop_early() -> None:
    # The third call of A is worth less than one call of B.
    solution = multiple_choice_knapsack([1, 1], [[0.5, 0.4, 0.1], [0.3]], 3)
    assert solution.counts == (2, 1)
    assert solution.value == pytest.approx(1.2)


@pytest.mark.parametrize("cost", [0, -1, 1.5, 2.0, True, "3", None])
def test_bad_costs_are_clear_errors(cost) -> None:
    with pytest.raises(UserError, match=r"weather: a call cost must be an integer >= 1"):
        bounded_knapsack([1, cost], [0.5, 0.5], [1, 1], 10, names=["fx", "weather"])
    with pytest.raises(UserError, match="weather"):
        multiple_choice_knapsack([cost], [[0.5]], 10, names=["weather"])


def test_bad_caps_budgets_and_values_are_clear_errors() -> None:
    with pytest.raises(UserError, match="a cap must be an integer >= 0"):
        bounded_knapsack([1], [0.5], [-1], 10)
    with pytest.raises(UserError, match="a budget must be an integer >= 0"):
        bounded_knapsack([1], [0.5], [1], -1)
    with pytest.raises(UserError, match="a value must be a finite number >= 0"):
        bounded_knapsack([1], [float("nan")], [1], 1)


def test_large_instance_binary_splitting_agrees_with_enumeration() -> None:
    # 50 APIs, caps up to 5: the bounded solver (binary splitting) and the multiple-choice
    # solver (every count enumerated) must pick the same plan.
    costs = [1 + (7 * i) % 40 for i in range(50)]
    values = [((13 * i) % 17) / 17 for i in range(50)]
    caps = [i % 6 for i in range(50)]
    for budget in (0, 37, 1000, 5000):
        bounded = bounded_knapsack(costs, values, caps, budget)
        choice = multiple_choice_knapsack(
            costs, [[v] * cap for v, cap in zip(values, caps, strict=True)], budget
        )
        assert bounded == choice
        assert bounded.cost <= budget
    # With budget for everything, every valued call is bought and nothing else.
    assert bounded.counts == tuple(cap if v else 0 for v, cap in zip(values, caps, strict=True))

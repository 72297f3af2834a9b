"""The planner registry: built-ins, decorators, entry points, and the runner's gate factory."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from toolsim.budget import PricedApi, parse_costs
from toolsim.catalog import Catalog
from toolsim.catalog.models import ApiSpec, Query
from toolsim.errors import UserError
from toolsim.planner import (
    Plan,
    available_planners,
    gate_factory,
    get_planner,
    planner_registry,
    priced_apis,
)
from toolsim.planner.value import ApiEstimate
from toolsim.registry import Registry
from toolsim.settings import Settings


class FirstOnly:
    """Loaded through an entry point: two calls of the first candidate."""

    name = "first-only"
    needs_budget = False

    def plan(self, query, apis, budget, experience):
        return Plan.from_counts(self.name, apis, {apis[0].function: 2}, budget)


def test_builtins_are_registered() -> None:
    assert {"none", "btp", "btp-mc", "btp-replan", "greedy", "prompt"} <= set(available_planners())


def test_entry_point_planners_are_found(monkeypatch: pytest.MonkeyPatch) -> None:
    point = EntryPoint("from-entry-point", f"{__name__}:FirstOnly", "toolsim.planners")
    seen: list[str] = []

    def fake_entry_points(group: str):
        seen.append(group)
        return [point]

    monkeypatch.setattr("toolsim.registry.entry_points", fake_entry_points)
    # A fresh registry of the planner group: what a new process would find.
    found = Registry("planner", "toolsim.planners")
    assert {"from-entry-point", "btp", "none"} <= set(found.names())
    assert seen == ["toolsim.planners"]
    with planner_registry.override({"from-entry-point": found.get("from-entry-point")}):
        assert "from-entry-point" in available_planners()
        _run_first_only()
    assert "from-entry-point" not in available_planners()


def _run_first_only() -> None:
    query = Catalog.from_paths(["example"]).query("example", "1")
    apis = priced_apis(query, parse_costs(None))
    gate = gate_factory("from-entry-point", budget=None, experience=None, settings=Settings())(
        query, apis, None
    )
    assert gate.offered() == [apis[0].function]
    gate.charge(apis[0].function)
    gate.charge(apis[0].function)
    assert gate.offered() == [] and "Finish" in gate.advice()


def test_unknown_names_and_missing_budgets_are_user_errors() -> None:
    with pytest.raises(UserError, match="unknown planner 'x'; available: btp, btp-mc"):
        get_planner("x")
    for name in ("btp", "btp-replan", "greedy", "prompt"):
        with pytest.raises(UserError, match=f"the {name} planner needs a budget"):
            gate_factory(name, budget=None, experience=None, settings=Settings())
    with pytest.raises(UserError, match="a budget cannot be negative"):
        gate_factory("none", budget=-1, experience=None, settings=Settings())


class FixedEstimates:
    """An experience stand-in with given values and caps."""

    def __init__(self, **values: float) -> None:
        self.values = values

    def __len__(self) -> int:
        return 1

    def estimates(self, text, functions, extra=None):
        return {f: ApiEstimate(self.values[f], 1, 1, 1.0, "given") for f in functions}


def test_greedy_fills_by_value_per_cost_and_can_miss_the_optimum() -> None:
    apis = [
        PricedApi(name, ApiSpec("C", "T", name), cost)
        for name, cost in [("a", 3), ("b", 2), ("c", 2)]
    ]
    query = Query("1", "q", tuple(p.api for p in apis))
    experience = FixedEstimates(a=0.9, b=0.5, c=0.5)
    greedy = get_planner("greedy").plan(query, apis, 4, experience)
    btp = get_planner("btp").plan(query, apis, 4, experience)
    # a has the best value per cost (0.3) and leaves 1, which buys nothing more.
    assert greedy.counts == {"a": 1, "b": 0, "c": 0}
    assert btp.counts == {"a": 0, "b": 1, "c": 1}
    assert btp.total_value > greedy.total_value

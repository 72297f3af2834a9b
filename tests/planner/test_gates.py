"""Gates enforcing plans: hiding, rejecting, charging, advising, recording, re-planning."""

from __future__ import annotations

import pytest

from toolsim.budget import Gate, PricedApi
from toolsim.catalog.models import ApiSpec, Query
from toolsim.planner import Experience, Plan, PlanGate, PlanItem, PromptGate, get_planner, make_gate
from toolsim.planner.gates import FINISH_ONLY, NoPlanGate
from toolsim.planner.replan import ReplanGate


def priced(*pairs: tuple[str, int]) -> list[PricedApi]:
    return [PricedApi(name, ApiSpec("Cat", "Tool", name), cost) for name, cost in pairs]


APIS = priced(("a", 3), ("b", 5), ("c", 4))
QUERY = Query("7", "find something", tuple(p.api for p in APIS), group="test")


def plan_gate(budget: int = 10, **counts: int) -> PlanGate:
    return PlanGate(APIS, budget, Plan.from_counts("test", APIS, counts, budget))


def test_unplanned_and_used_up_functions_are_hidden_and_rejected_for_free() -> None:
    gate = plan_gate(a=2, b=1)
    assert isinstance(gate, Gate)
    assert gate.offered() == ["a", "b"]
    rejection = gate.check("c", {})
    assert rejection is not None and rejection.reason == "unplanned"
    assert gate.spent == 0
    assert gate.check("a", {}) is None
    assert gate.charge("a", error="HTTP 500") == 3  # an API error still costs its price
    assert gate.charge("a") == 3
    assert gate.spent == 6
    assert gate.offered() == []  # a is used up; b costs 5 > 4 left
    capped = gate.check("a", {})
    assert capped is not None and capped.reason == "cap_reached"
    broke = gate.check("b", {})
    assert broke is not None and broke.reason == "over_budget"
    assert gate.check("nope", {}).reason == "unknown"
    assert gate.spent == 6
    assert gate.advice() == FINISH_ONLY
    record = gate.record()
    assert record["spent"] == 6 and record["calls"] == {"a": 2}
    assert record["rejections"] == {
        "unplanned": 1,
        "cap_reached": 1,
        "over_budget": 1,
        "unknown": 1,
    }
    assert record["plan"]["apis"][0] == {
        "function": "a",
        "cost": 3,
        "value": None,
        "cap": None,
        "count": 2,
        "reason": "",
    }


def test_advice_is_silent_while_calls_remain() -> None:
    gate = plan_gate(a=1)
    assert gate.advice() is None
    gate.charge("a")
    assert "Call Finish now" in gate.advice()


def test_no_plan_gate_enforces_the_budget_only() -> None:
    gate = NoPlanGate(APIS, 7)
    assert gate.offered() == ["a", "b", "c"]
    gate.charge("a")
    assert gate.offered() == ["a", "c"]
    assert gate.check("b", {}).reason == "over_budget"
    gate.charge("c")
    assert gate.offered() == [] and gate.advice() == FINISH_ONLY
    assert gate.record()["planner"] == "none" and gate.record()["plan"] is None


def test_prompt_gate_tells_prices_and_budget_but_enforces_nothing() -> None:
    gate = PromptGate(APIS, 6)
    assert "Budget: 6 of 6 left" in gate.advice()
    assert "a: 3, b: 5, c: 4" in gate.advice()
    gate.charge("b")
    assert gate.offered() == ["a", "b", "c"]
    assert gate.check("b", {}) is None  # over budget, but prompting does not enforce
    gate.charge("b")
    assert gate.spent == 10
    assert "over the budget of 6" in gate.advice() and "call Finish now" in gate.advice()


def test_btp_gate_without_experience_plans_every_api_once_within_budget() -> None:
    gate = make_gate(get_planner("btp"), QUERY, APIS, 8, Experience.empty())
    # Unseen APIs are worth 0.1 each; 8 buys two calls: a+b (8) or a+c (7): a+c is cheaper.
    assert gate.plan.counts == {"a": 1, "b": 0, "c": 1}
    assert gate.offered() == ["a", "c"]


def test_replan_moves_budget_from_a_failing_api() -> None:
    # b failed once; with replanning its remaining calls go, and c gets the money.
    apis = priced(("a", 2), ("b", 2), ("c", 2))
    items = [("a", 1, 1), ("b", 2, 2), ("c", 0, 1)]
    plan = Plan("btp-replan", 6, tuple(PlanItem(n, 2, count, 0.1, cap) for n, count, cap in items))
    gate = ReplanGate(QUERY, apis, 6, plan, Experience.empty())
    assert gate.offered() == ["a", "b"]
    gate.charge("b", error="timeout")
    assert gate.left == {"a": 1, "b": 0, "c": 1}
    assert gate.offered() == ["a", "c"]
    gate.charge("a")
    assert gate.left == {"a": 0, "b": 0, "c": 1}
    record = gate.record()
    assert [step["after"] for step in record["replans"]] == ["b", "a"]
    assert record["replans"][0] == {
        "after": "b",
        "error": True,
        "remaining": 4,
        "counts": {"a": 1, "c": 1},
    }


def test_planners_needing_a_budget_refuse_none() -> None:
    from toolsim.errors import UserError

    with pytest.raises(UserError, match="the btp planner needs a budget"):
        make_gate(get_planner("btp"), QUERY, APIS, None, Experience.empty())
    gate = make_gate(get_planner("none"), QUERY, APIS, None, Experience.empty())
    assert gate.offered() == ["a", "b", "c"] and gate.advice() is None

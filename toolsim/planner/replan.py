"""``btp-replan``: BTP that plans again after every executed call.

The fixed BTP plan keeps budget reserved for APIs that turn out to fail. After each
executed call this planner solves the knapsack again for ``R = budget - spent``:

* what this query has observed counts as one more past use (weight 1: it is the
  query itself), helpful if any call of the API answered without an error; an API
  whose cap so drops to 0 (its value below the threshold) gets no more calls;
* every other API keeps its first cap minus the calls already made.

With the values unchanged, the rest of an optimal plan is optimal for what is left;
so re-planning moves budget only because of what this query observed: away from APIs
that failed, towards those that worked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from toolsim.budget import PricedApi
from toolsim.catalog.models import Query
from toolsim.planner.base import Plan
from toolsim.planner.btp import BtpPlanner, knapsack_plan
from toolsim.planner.experience import Experience
from toolsim.planner.gates import PlanGate
from toolsim.planner.value import Use


class ReplanGate(PlanGate):
    """A plan gate whose plan is solved again with the remaining budget after each call."""

    def __init__(
        self,
        query: Query,
        apis: Sequence[PricedApi],
        budget: int,
        plan: Plan,
        experience: Experience,
    ) -> None:
        super().__init__(apis, budget, plan)
        self.query = query
        self.priced = list(apis)
        self.experience = experience
        self.first_caps = {item.function: item.cap or 0 for item in plan.items}
        self.helpful: dict[str, bool] = {}
        self.replans: list[dict[str, Any]] = []

    def charge(self, function: str, *, error: str = "") -> int:
        """Charge the call, learn from its outcome, and plan the rest of the budget."""
        cost = super().charge(function, error=error)
        self.helpful[function] = self.helpful.get(function, False) or not error
        observed = {
            name: [Use(1.0, self.calls[name], helpful)] for name, helpful in self.helpful.items()
        }
        estimates = self.experience.estimates(self.query.text, list(self.apis), observed)
        caps = {
            name: 0
            if estimates[name].cap == 0
            else max(0, self.first_caps[name] - self.calls[name])
            for name in self.apis
        }
        remaining = self.remaining or 0
        plan = knapsack_plan(self.plan.planner, self.priced, max(0, remaining), estimates, caps)
        self.left = plan.counts
        self.replans.append(
            {
                "after": function,
                "error": bool(error),
                "remaining": remaining,
                "counts": {name: n for name, n in plan.counts.items() if n},
            }
        )
        return cost

    def record(self) -> dict[str, Any]:
        """The first plan, and each re-plan's remaining budget and counts."""
        return {**super().record(), "replans": self.replans}


class BtpReplanPlanner(BtpPlanner):
    """BTP's first plan, enforced by a :class:`ReplanGate`."""

    name = "btp-replan"

    def make_gate(
        self, query: Query, apis: Sequence[PricedApi], budget: int | None, experience: Experience
    ) -> ReplanGate:
        """Plan with the whole budget, then re-plan after every call."""
        plan = self.plan(query, apis, budget, experience)
        assert budget is not None  # plan() refused None already
        return ReplanGate(query, apis, budget, plan, experience)

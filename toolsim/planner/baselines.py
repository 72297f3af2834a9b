"""The baseline planners BTP is compared with: ``none``, ``greedy`` and ``prompt``.

They are registered in :data:`toolsim.registry.BUILTINS`, like BTP's planners.
"""

from __future__ import annotations

from collections.abc import Sequence

from toolsim.budget import PricedApi
from toolsim.catalog.models import Query
from toolsim.planner.base import Plan, PlanItem
from toolsim.planner.experience import Experience
from toolsim.planner.gates import PromptGate


class NoPlanner:
    """No plan: the budget (if any) is still enforced."""

    name = "none"
    needs_budget = False

    def plan(
        self, query: Query, apis: Sequence[PricedApi], budget: int | None, experience: Experience
    ) -> None:
        """Plan nothing."""
        return None


class GreedyPlanner:
    """BTP's values and caps, filled by value per unit of cost instead of a knapsack.

    APIs are taken in falling value/cost order (ties: candidate order), each up to its
    cap or until the budget runs out; an API that no longer fits is skipped, not the end.
    """

    name = "greedy"
    needs_budget = True

    def plan(
        self, query: Query, apis: Sequence[PricedApi], budget: int | None, experience: Experience
    ) -> Plan:
        """Fill the budget with the best value per cost first."""
        if budget is None:
            raise ValueError("the greedy planner needs a budget")
        estimates = experience.estimates(query.text, [priced.function for priced in apis])
        order = sorted(
            range(len(apis)), key=lambda i: -estimates[apis[i].function].value / apis[i].cost
        )
        counts, left = [0] * len(apis), budget
        for i in order:
            estimate = estimates[apis[i].function]
            if estimate.cap > 0 and estimate.value > 0:
                counts[i] = min(estimate.cap, left // apis[i].cost)
                left -= counts[i] * apis[i].cost
        items = tuple(
            PlanItem(
                priced.function,
                priced.cost,
                count,
                round(estimates[priced.function].value, 6),
                estimates[priced.function].cap,
                estimates[priced.function].reason,
            )
            for priced, count in zip(apis, counts, strict=True)
        )
        return Plan(self.name, budget, items, ("fill the budget by value per cost",))


class PromptPlanner:
    """No plan and no enforcement: the budget left and the prices are told each step."""

    name = "prompt"
    needs_budget = True

    def plan(
        self, query: Query, apis: Sequence[PricedApi], budget: int | None, experience: Experience
    ) -> None:
        """Plan nothing; the gate does the telling."""
        return None

    def make_gate(
        self, query: Query, apis: Sequence[PricedApi], budget: int | None, experience: Experience
    ) -> PromptGate:
        """A gate that advises and never rejects a known function."""
        return PromptGate(apis, budget)

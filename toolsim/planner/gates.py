"""Gates that enforce plans while the agent runs (see :mod:`toolsim.budget.gate`).

* :class:`NoPlanGate`: the budget alone (planner ``none`` and planners returning None).
* :class:`PlanGate`: a fixed plan. Functions with no planned calls left, or costing
  more than the budget left, are hidden and rejected ("unplanned", "cap_reached",
  "over_budget"); a rejected call costs nothing; an executed call costs its price
  even when the API answered with an error.
* :class:`PromptGate`: no plan and no enforcement; the model is told the budget
  left and every price before each step.

Every gate tells the model to call Finish once nothing else may be called.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from toolsim.budget import BudgetGate, PricedApi, Rejection
from toolsim.planner.base import Plan

FINISH_ONLY = (
    "Only Finish is left: the budget or the plan allows no more tool calls. "
    "Call Finish now with the best answer you have."
)


class NoPlanGate(BudgetGate):
    """Budget-only enforcement that names its planner in the record."""

    def __init__(
        self, apis: Sequence[PricedApi], budget: int | None, planner: str = "none"
    ) -> None:
        super().__init__(apis, budget)
        self.planner = planner

    def advice(self) -> str | None:
        """Tell the model to finish once nothing is affordable."""
        return FINISH_ONLY if self.budget is not None and not self.offered() else None

    def record(self) -> dict[str, Any]:
        """Budget, spending, rejections, the planner's name and no plan."""
        return {**super().record(), "planner": self.planner, "plan": None}


class PlanGate(BudgetGate):
    """Enforces a plan: at most the planned calls of each function, within the budget."""

    def __init__(self, apis: Sequence[PricedApi], budget: int | None, plan: Plan) -> None:
        super().__init__(apis, budget)
        self.plan = plan
        self.planner = plan.planner
        #: Calls each function may still make under the current plan.
        self.left: dict[str, int] = {name: 0 for name in self.apis}
        self.left.update(plan.counts)

    def offered(self) -> list[str]:
        """Functions with planned calls left that the budget still affords."""
        return [name for name in self.apis if self.left[name] > 0 and self.affordable(name)]

    def check(self, function: str, arguments: dict[str, Any]) -> Rejection | None:
        """Reject unknown, unplanned, used-up and unaffordable calls."""
        if function in self.apis and self.left[function] <= 0:
            if self.calls[function]:
                return self._reject(
                    "cap_reached",
                    f"not executed: the plan allows no more calls of {function} "
                    f"({self.calls[function]} made); use another function or call Finish",
                )
            return self._reject(
                "unplanned",
                f"not executed: {function} is not in the budget plan for this task; "
                "use another function or call Finish",
            )
        return super().check(function, arguments)

    def charge(self, function: str, *, error: str = "") -> int:
        """Charge the price and use up one planned call."""
        cost = super().charge(function, error=error)
        self.left[function] = max(0, self.left[function] - 1)
        return cost

    def advice(self) -> str | None:
        """Tell the model to finish once the plan or budget allows nothing more."""
        return None if self.offered() else FINISH_ONLY

    def record(self) -> dict[str, Any]:
        """Budget, spending, rejections and the plan with its reasons."""
        return {**super().record(), "planner": self.planner, "plan": self.plan.to_record()}


class PromptGate(BudgetGate):
    """Tells the model the budget left and each price every step; enforces nothing.

    Every known function stays offered and callable, so a run can go over budget:
    this is the baseline of a model that is merely told about costs.
    """

    def __init__(self, apis: Sequence[PricedApi], budget: int | None) -> None:
        super().__init__(apis, budget)
        self.planner = "prompt"

    def offered(self) -> list[str]:
        """Every candidate function."""
        return list(self.apis)

    def check(self, function: str, arguments: dict[str, Any]) -> Rejection | None:
        """Reject unknown functions only."""
        if function not in self.apis:
            return self._reject("unknown", f"{function} is not an available function")
        return None

    def advice(self) -> str | None:
        """The budget left and every price; to finish once nothing fits."""
        prices = ", ".join(f"{name}: {priced.cost}" for name, priced in self.apis.items())
        remaining = self.remaining
        if remaining is None:
            return f"Each tool call costs money. Price per call: {prices}."
        if not any(priced.cost <= remaining for priced in self.apis.values()):
            state = (
                f"You have spent {self.spent}, over the budget of {self.budget}."
                if remaining < 0
                else f"Only {remaining} of the budget of {self.budget} is left."
            )
            return f"{state} No tool call fits any more; call Finish now."
        return (
            f"Budget: {remaining} of {self.budget} left (spent {self.spent}). "
            f"Price per call: {prices}. Do not spend more than is left."
        )

    def record(self) -> dict[str, Any]:
        """Budget, spending and rejections; no plan."""
        return {**super().record(), "planner": self.planner, "plan": None}

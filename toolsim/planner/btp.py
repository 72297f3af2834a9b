"""BTP: plan call counts by an exact knapsack over experience-based values and caps.

``btp`` is the paper's method (bounded knapsack: each call of an API is worth its
value ``v``, at most ``cap`` calls). ``btp-mc`` is the multiple-choice variant: the
j-th call is worth ``v`` times the weighted share of similar past queries that made
at least j calls, so repeated calls have diminishing value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from toolsim.budget import PricedApi
from toolsim.catalog.models import Query
from toolsim.planner.base import Plan, PlanItem
from toolsim.planner.experience import Experience
from toolsim.planner.knapsack import bounded_knapsack, multiple_choice_knapsack
from toolsim.planner.value import ApiEstimate


def knapsack_plan(
    planner: str,
    apis: Sequence[PricedApi],
    budget: int,
    estimates: Mapping[str, ApiEstimate],
    caps: Mapping[str, int] | None = None,
    *,
    multiple_choice: bool = False,
) -> Plan:
    """Solve the knapsack for ``apis`` and explain each choice.

    ``caps`` overrides the estimates' caps (the re-planner passes what is left); without
    it the multiple-choice variant allows as many calls as any similar past query made.
    """
    names = [priced.function for priced in apis]
    costs = [priced.cost for priced in apis]
    if caps is None:
        # The multiple-choice variant may go past the average count, at falling value.
        caps = {
            name: len(estimates[name].marginals) if multiple_choice else estimates[name].cap
            for name in names
        }
    if multiple_choice:
        marginals = [list(estimates[name].marginals[: caps[name]]) for name in names]
        solution = multiple_choice_knapsack(costs, marginals, budget, names)
    else:
        values = [estimates[name].value for name in names]
        solution = bounded_knapsack(costs, values, [caps[name] for name in names], budget, names)
    items = []
    for name, cost, count in zip(names, costs, solution.counts, strict=True):
        estimate, cap = estimates[name], caps[name]
        reason = estimate.reason
        if cap == 0:
            reason += "; not planned (cap 0)"
        elif count < cap:
            reason += f"; {count} of {cap} planned: the budget is better spent elsewhere"
        items.append(PlanItem(name, cost, count, round(estimate.value, 6), cap, reason))
    reasons = (
        f"maximise summed value within budget {budget} (exact knapsack"
        + (", diminishing per-call values)" if multiple_choice else ")"),
        f"planned cost {solution.cost}, value {solution.value:.3f}",
    )
    return Plan(planner, budget, tuple(items), reasons)


class BtpPlanner:
    """The BTP planner of the paper: fixed plan from a bounded knapsack."""

    name = "btp"
    needs_budget = True
    multiple_choice = False

    def plan(
        self, query: Query, apis: Sequence[PricedApi], budget: int | None, experience: Experience
    ) -> Plan:
        """Estimate values and caps from similar past queries, then solve the knapsack."""
        if budget is None:
            raise ValueError(f"the {self.name} planner needs a budget")
        estimates = experience.estimates(query.text, [priced.function for priced in apis])
        plan = knapsack_plan(
            self.name, apis, budget, estimates, multiple_choice=self.multiple_choice
        )
        source = f"{len(experience)} past queries" if len(experience) else "no past queries"
        return Plan(
            plan.planner, plan.budget, plan.items, (f"experience: {source}",) + plan.reasons
        )


class BtpMultipleChoicePlanner(BtpPlanner):
    """BTP with diminishing per-call values (a multiple-choice knapsack)."""

    name = "btp-mc"
    multiple_choice = True

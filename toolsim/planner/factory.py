"""From a planner name to the gate factory the agent runner calls for every query."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from toolsim.budget import CostTable, Gate, GateFactory, PricedApi
from toolsim.catalog.models import Query
from toolsim.errors import UserError
from toolsim.planner.base import Planner, get_planner
from toolsim.planner.experience import Experience
from toolsim.planner.gates import NoPlanGate, PlanGate
from toolsim.settings import Settings


def priced_apis(query: Query, costs: CostTable) -> list[PricedApi]:
    """The query's candidate APIs under their function names, priced by ``costs``."""
    seen: dict[str, PricedApi] = {}
    for api in query.apis:
        seen.setdefault(
            api.function_name, PricedApi(api.function_name, api, costs.cost(api.function_name))
        )
    return list(seen.values())


def make_gate(
    planner: Planner,
    query: Query,
    apis: Sequence[PricedApi],
    budget: int | None,
    experience: Experience,
) -> Gate:
    """The planner's own gate if it defines ``make_gate``, else its plan as fixed limits."""
    if planner.needs_budget and budget is None:
        raise UserError(f"the {planner.name} planner needs a budget (--budget B)")
    custom = getattr(planner, "make_gate", None)
    if custom is not None:
        return custom(query, apis, budget, experience)
    plan = planner.plan(query, apis, budget, experience)
    if plan is None:
        return NoPlanGate(apis, budget, planner.name)
    return PlanGate(apis, budget, plan)


def gate_factory(
    name: str, *, budget: int | None, experience: Path | None, settings: Settings
) -> GateFactory:
    """The runner's hook: a factory making each query's gate with planner ``name``.

    Unknown names, a budget-needing planner without a budget and an unreadable
    experience file fail here, before any query runs, as a :class:`UserError`.
    ``settings`` is part of the runner's contract; the built-in planners need none.
    """
    planner = get_planner(name)
    if planner.needs_budget and budget is None:
        raise UserError(f"the {name} planner needs a budget (--budget B)")
    if budget is not None and budget < 0:
        raise UserError(f"a budget cannot be negative, got {budget}")
    past = Experience.from_file(experience)

    def factory(query: Query, apis: Sequence[PricedApi], budget: int | None) -> Gate:
        return make_gate(planner, query, apis, budget, past)

    return factory

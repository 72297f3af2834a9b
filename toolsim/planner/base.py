"""The Planner Protocol, the Plan it returns, and the planner registry.

A planner sees a query, its candidate APIs with their prices, the budget and the
experience of past queries, and returns a :class:`Plan` (how many calls of each
function the agent may make, and why) or None (no plan: only the budget binds).
Built-in planners are registered exactly like third-party ones (entry-point group
``toolsim.planners``; see :mod:`toolsim.registry`).

A planner may also define ``make_gate(query, apis, budget, experience) -> Gate``
to enforce its plan in its own way (re-planning, prompting); without it
:func:`toolsim.planner.gates.default_gate` applies the plan as fixed limits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from toolsim.budget import PricedApi
from toolsim.catalog.models import Query
from toolsim.registry import Registry

if TYPE_CHECKING:
    from toolsim.planner.experience import Experience


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One candidate function in a plan: its price, value, cap and planned call count."""

    function: str
    cost: int
    count: int
    value: float | None = None
    cap: int | None = None
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` shape of one API."""
        return {
            "function": self.function,
            "cost": self.cost,
            "value": self.value,
            "cap": self.cap,
            "count": self.count,
        }


@dataclass(frozen=True)
class Plan:
    """How many calls of each candidate function the agent may make, and why."""

    planner: str
    budget: int | None
    items: tuple[PlanItem, ...]
    reasons: tuple[str, ...] = field(default=())

    @property
    def counts(self) -> dict[str, int]:
        """Function name -> planned calls (0 for unplanned candidates)."""
        return {item.function: item.count for item in self.items}

    @property
    def total_cost(self) -> int:
        """What the plan costs if every planned call is made."""
        return sum(item.cost * item.count for item in self.items)

    @property
    def total_value(self) -> float:
        """The planned calls' summed value (items without a value count 0)."""
        return sum((item.value or 0.0) * item.count for item in self.items)

    def to_json(self) -> dict[str, Any]:
        """``{"budget", "apis": [...], "total_cost", "total_value"}``: the ``plan --json`` shape."""
        return {
            "budget": self.budget,
            "apis": [item.to_json() for item in self.items],
            "total_cost": self.total_cost,
            "total_value": round(self.total_value, 9),
        }

    def to_record(self) -> dict[str, Any]:
        """The JSON shape plus the planner's name and reasons, for run records."""
        data = self.to_json()
        data["planner"] = self.planner
        data["reasons"] = list(self.reasons)
        for item, entry in zip(self.items, data["apis"], strict=True):
            entry["reason"] = item.reason
        return data

    @classmethod
    def from_counts(
        cls,
        planner: str,
        apis: Sequence[PricedApi],
        counts: Mapping[str, int],
        budget: int | None = None,
        reasons: Sequence[str] = (),
    ) -> Plan:
        """A plan from bare counts (candidates missing from ``counts`` get 0 calls)."""
        unknown = set(counts) - {priced.function for priced in apis}
        if unknown:
            raise ValueError(f"planned functions are not candidates: {sorted(unknown)}")
        items = tuple(
            PlanItem(priced.function, priced.cost, int(counts.get(priced.function, 0)))
            for priced in apis
        )
        return cls(planner, budget, items, tuple(reasons))


@runtime_checkable
class Planner(Protocol):
    """Plans, before the first call, which functions the agent may call and how often.

    ``needs_budget``: whether the planner refuses to run without a budget.
    """

    name: str
    needs_budget: bool

    def plan(
        self,
        query: Query,
        apis: Sequence[PricedApi],
        budget: int | None,
        experience: Experience,
    ) -> Plan | None:
        """The plan for one query, or None for "no plan, only the budget"."""
        ...


PlannerFactory = Callable[[], Planner]

#: Planner factories by name (entry-point group ``toolsim.planners``).
planner_registry: Registry[PlannerFactory] = Registry("planner", "toolsim.planners")

#: Register a planner factory (a class or a no-argument function) under a name (decorator).
register_planner = planner_registry.register


def available_planners() -> list[str]:
    """Every registered planner name, built-in and plug-in."""
    return planner_registry.names()


def get_planner(name: str) -> Planner:
    """A new planner registered as ``name``; unknown names list the known ones."""
    return planner_registry.create(name)

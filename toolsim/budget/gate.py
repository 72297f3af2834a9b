"""The gate: consulted before every tool call, it decides what the agent may call.

A gate is made per query (one for a whole DFSDT tree, so the budget is global).
Before each model step the agent offers only :meth:`Gate.offered` functions
(plus ``Finish``) and shows :meth:`Gate.advice` if any; before executing a call
it asks :meth:`Gate.check` (a :class:`Rejection` becomes an error observation and
costs nothing); after executing one it calls :meth:`Gate.charge` (a call costs
its price even when the API answered with an error).

:class:`BudgetGate` enforces a budget alone; planners subclass or wrap it.

Exceeding the budget is never raised: the call is refused with a
:class:`Rejection` (reason ``over_budget``), which the model sees as an error
observation and the run record counts (``rejected_calls``, ``budget_exhausted``),
so the agent can still finish with what it has.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from toolsim.catalog.models import ApiSpec, Query


@dataclass(frozen=True, slots=True)
class PricedApi:
    """A candidate API of a query, under the name the agent calls it by, with its price."""

    function: str
    api: ApiSpec
    cost: int


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a call was not executed, and the observation the model is shown instead."""

    #: A short machine-readable reason: "unplanned", "over_budget", "cap_reached", ...
    reason: str
    message: str


@runtime_checkable
class Gate(Protocol):
    """What the agent consults; see the module docstring for when each method is called."""

    budget: int | None
    spent: int

    def offered(self) -> list[str]:
        """The function names (without ``Finish``) the model may be offered now."""
        ...

    def check(self, function: str, arguments: dict[str, Any]) -> Rejection | None:
        """None if the call may run now, else why not."""
        ...

    def charge(self, function: str, *, error: str = "") -> int:
        """Record an executed call (``error``: the API's error text, if any); return its cost."""
        ...

    def advice(self) -> str | None:
        """Text to tell the model before its next step (budget left, "only Finish remains")."""
        ...

    def record(self) -> dict[str, Any]:
        """What to keep in the run record: the plan, its reasons, what was rejected."""
        ...


class GateFactory(Protocol):
    """Makes the gate of one query."""

    def __call__(self, query: Query, apis: Sequence[PricedApi], budget: int | None) -> Gate:
        """A fresh gate for ``query`` over its priced candidate ``apis``."""
        ...


class BudgetGate:
    """Enforces a budget and nothing else (no budget: everything is allowed, costs are counted).

    Functions whose price exceeds what is left are hidden and rejected.
    """

    def __init__(self, apis: Sequence[PricedApi], budget: int | None = None) -> None:
        if budget is not None and budget < 0:
            raise ValueError("a budget cannot be negative")
        self.apis = {priced.function: priced for priced in apis}
        self.budget = budget
        self.spent = 0
        self.calls: Counter[str] = Counter()
        self.rejections: Counter[str] = Counter()

    @property
    def remaining(self) -> int | None:
        """Budget left, or None without a budget."""
        return None if self.budget is None else self.budget - self.spent

    def affordable(self, function: str) -> bool:
        """Whether one more call of ``function`` fits in the budget."""
        remaining = self.remaining
        return remaining is None or self.apis[function].cost <= remaining

    def offered(self) -> list[str]:
        """Known functions the budget still allows, in candidate order."""
        return [name for name in self.apis if self.affordable(name)]

    def check(self, function: str, arguments: dict[str, Any]) -> Rejection | None:
        """Reject unknown functions and calls that do not fit the remaining budget."""
        if function not in self.apis:
            return self._reject("unknown", f"{function} is not an available function")
        if not self.affordable(function):
            cost = self.apis[function].cost
            return self._reject(
                "over_budget",
                f"not executed: {function} costs {cost} and only {self.remaining} of the "
                f"budget {self.budget} is left",
            )
        return None

    def _reject(self, reason: str, message: str) -> Rejection:
        self.rejections[reason] += 1
        return Rejection(reason, message)

    def charge(self, function: str, *, error: str = "") -> int:
        """Add the call's price to what was spent."""
        cost = self.apis[function].cost
        self.spent += cost
        self.calls[function] += 1
        return cost

    def advice(self) -> str | None:
        """Tell the model to finish once no function is affordable."""
        if self.budget is not None and not self.offered():
            return "The budget is used up: no tool can be called any more. Call Finish now."
        return None

    def record(self) -> dict[str, Any]:
        """Budget, spending and rejections."""
        return {
            "budget": self.budget,
            "spent": self.spent,
            "calls": dict(self.calls),
            "rejections": dict(self.rejections),
        }

"""Which agent x planner combinations a bench runs, checked before anything starts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from toolsim.errors import UserError

#: The planner name meaning "no planner" (the budget alone is enforced).
NO_PLANNER = "none"

#: Prices per call unless told otherwise: 1-10 per function, fixed by the seed, so a budget of
#: 20 binds after a few calls (as in the BTP release) and the planners' differences show.
DEFAULT_COSTS = "seed:1:1-10"


@dataclass(frozen=True, slots=True)
class Combination:
    """One agent with one planner; its label names its run folder and its report column."""

    agent: str
    planner: str

    @property
    def label(self) -> str:
        """``<agent>-<planner>``, e.g. ``cot-btp``."""
        return f"{self.agent}-{self.planner}"


def _unique(names: Sequence[str], what: str) -> list[str]:
    cleaned = [name.strip() for name in names if name.strip()]
    if not cleaned:
        raise UserError(f"give at least one {what}")
    duplicates = sorted({name for name in cleaned if cleaned.count(name) > 1})
    if duplicates:
        raise UserError(f"{what}s listed twice: {', '.join(duplicates)}")
    return cleaned


def combinations(agents: Sequence[str], planners: Sequence[str]) -> list[Combination]:
    """Every agent with every planner, agents outermost; unknown names are a :class:`UserError`."""
    from toolsim.agent.agents import create_agent
    from toolsim.planner import get_planner

    agents = _unique(agents, "agent")
    planners = _unique(planners, "planner")
    # The registries' own lookups: their errors list every available name.
    for name in agents:
        create_agent(name)
    for name in planners:
        get_planner(name)
    return [Combination(agent, planner) for agent in agents for planner in planners]


def check_budget(planners: Sequence[str], budget: int | None) -> None:
    """Refuse, before anything runs, a planner that needs a budget when there is none."""
    if budget is not None:
        return
    from toolsim.planner import get_planner

    for name in planners:
        if get_planner(name).needs_budget:
            raise UserError(
                f"the {name} planner needs a budget: give --budget B, or only planners that "
                "need none (e.g. --planners none)"
            )

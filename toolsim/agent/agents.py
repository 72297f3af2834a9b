"""The agents: CoT/ReAct (one chain) and DFSDT (depth-first search over chains).

Both only order the steps; an :class:`~toolsim.agent.episode.Episode` makes
each one. ``solve`` returns how the query ended (a :class:`QueryEnd`). Agents are
chosen by name from a registry (entry-point group ``toolsim.agents``; see
:mod:`toolsim.registry`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol

from toolsim.agent.episode import CallLimitReached, Episode, FailedStep
from toolsim.agent.prompts import diversity_note
from toolsim.agent.trajectory import Step, walk
from toolsim.registry import Registry
from toolsim.runs import QueryStatus


@dataclass(frozen=True, slots=True)
class QueryEnd:
    """How a query ended: a record status and, for failures, why."""

    status: QueryStatus
    error: str | None = None


class Agent(Protocol):
    """Solves one query through an episode."""

    name: ClassVar[str]
    #: The reference method name, used in file names and converted answers.
    method: ClassVar[str]

    async def solve(self, episode: Episode) -> QueryEnd:
        """Run until an answer, a give-up, or a limit."""
        ...


def _limit_error(episode: Episode) -> str:
    return f"model call limit ({episode.limits.max_model_calls}) reached"


class CoTAgent:
    """One chain of (thought, call, observation) steps, at most ``max_steps`` long."""

    name: ClassVar[str] = "cot"
    method: ClassVar[str] = "CoT@1"

    async def solve(self, episode: Episode) -> QueryEnd:
        """Step until Finish, a failed step, the step cap or the call limit."""
        last: Step | None = None
        while (last.depth if last else 0) < episode.limits.max_steps:
            try:
                chosen = await episode.decide(last.path() if last else [])
            except FailedStep as failure:
                return QueryEnd(QueryStatus.FAILED, str(failure))
            except CallLimitReached:
                return QueryEnd(QueryStatus.NO_ANSWER, _limit_error(episode))
            last = await episode.act(chosen, last)
            if last.answered:
                return QueryEnd(QueryStatus.ANSWERED)
            if last.gave_up:
                last.pruned = True
                return QueryEnd(QueryStatus.GAVE_UP)
        if last is not None:
            last.pruned = True
        return QueryEnd(QueryStatus.NO_ANSWER, f"no Finish within {episode.limits.max_steps} steps")


class DFSDTAgent:
    """Depth-first search: up to ``width`` children per node, backtracking on give-up.

    A node's later children are told what their siblings tried, and to differ. The
    search stops at the first answer, or when the model calls run out.
    """

    name: ClassVar[str] = "dfsdt"
    method: ClassVar[str] = "DFS_woFilter_w2"

    async def solve(self, episode: Episode) -> QueryEnd:
        """Search from the empty chain."""
        try:
            if await self._search(episode, None):
                return QueryEnd(QueryStatus.ANSWERED)
        except CallLimitReached:
            return QueryEnd(QueryStatus.NO_ANSWER, _limit_error(episode))
        steps = walk(episode.roots)
        if not steps and episode.failed_steps:
            return QueryEnd(QueryStatus.FAILED, episode.failed_steps[-1].error)
        if any(step.gave_up for step in steps):
            return QueryEnd(QueryStatus.GAVE_UP)
        return QueryEnd(QueryStatus.NO_ANSWER, "the search ended without an answer")

    async def _search(self, episode: Episode, node: Step | None) -> bool:
        path = node.path() if node else []
        if len(path) >= episode.limits.max_steps:
            assert node is not None
            node.pruned = True
            return False
        for sibling in range(episode.limits.width):
            tried = node.children if node else episode.roots
            note = diversity_note(tried) if tried else ""
            try:
                chosen = await episode.decide(path, sibling=sibling, note=note)
            except FailedStep:
                continue
            child = await episode.act(chosen, node, note=note)
            if child.answered:
                return True
            if child.gave_up:
                child.pruned = True
                continue
            if await self._search(episode, child):
                return True
        return False


AgentFactory = Callable[[], Agent]

#: Agent factories by name (entry-point group ``toolsim.agents``).
agent_registry: Registry[AgentFactory] = Registry("agent", "toolsim.agents")

#: Register an agent factory (a class or a no-argument function) under a name (decorator).
register_agent = agent_registry.register


def create_agent(name: str) -> Agent:
    """The agent called ``name``; an unknown name lists the known ones."""
    return agent_registry.create(name)

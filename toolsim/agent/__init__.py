"""Agents that solve benchmark queries by calling the virtual tools: CoT/ReAct and DFSDT.

:func:`run_queries` is the library behind ``toolsim run``: it writes answers in
the StableToolBench formats plus a toolsim record per query (see
:mod:`toolsim.runs` for the run folder's layout).

Names are imported on first use (PEP 562), so the CLI can read :class:`ActionMode`
without loading the model client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolsim.exports import lazy_exports

_EXPORTS = {
    "ActionMode": "toolsim.agent.actions",
    "AgentLimits": "toolsim.agent.episode",
    "CoTAgent": "toolsim.agent.agents",
    "DFSDTAgent": "toolsim.agent.agents",
    "Episode": "toolsim.agent.episode",
    "QueryEnd": "toolsim.agent.agents",
    "RunConfig": "toolsim.agent.runner",
    "RunProgress": "toolsim.agent.runner",
    "RunSummary": "toolsim.agent.runner",
    "agent_registry": "toolsim.agent.agents",
    "create_agent": "toolsim.agent.agents",
    "register_agent": "toolsim.agent.agents",
    "run_queries": "toolsim.agent.runner",
}

__all__ = [
    "ActionMode",
    "AgentLimits",
    "CoTAgent",
    "DFSDTAgent",
    "Episode",
    "QueryEnd",
    "RunConfig",
    "RunProgress",
    "RunSummary",
    "agent_registry",
    "create_agent",
    "register_agent",
    "run_queries",
]

if TYPE_CHECKING:
    from toolsim.agent.actions import ActionMode
    from toolsim.agent.agents import (
        CoTAgent,
        DFSDTAgent,
        QueryEnd,
        agent_registry,
        create_agent,
        register_agent,
    )
    from toolsim.agent.episode import AgentLimits, Episode
    from toolsim.agent.runner import RunConfig, RunProgress, RunSummary, run_queries


__getattr__ = lazy_exports(__name__, _EXPORTS)

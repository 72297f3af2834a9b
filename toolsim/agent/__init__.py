"""Agents that solve benchmark queries by calling the virtual tools: CoT/ReAct and DFSDT.

:func:`run_queries` is the library behind ``toolsim run``: it writes answers in
the StableToolBench formats plus a toolsim record per query (see
:mod:`toolsim.runs` for the run folder's layout).
"""

from toolsim.agent.actions import ActionMode
from toolsim.agent.agents import AGENTS, CoTAgent, DFSDTAgent, QueryEnd, create_agent
from toolsim.agent.episode import AgentLimits, Episode
from toolsim.agent.runner import RunConfig, RunProgress, RunSummary, run_queries

__all__ = [
    "AGENTS",
    "ActionMode",
    "AgentLimits",
    "CoTAgent",
    "DFSDTAgent",
    "Episode",
    "QueryEnd",
    "RunConfig",
    "RunProgress",
    "RunSummary",
    "create_agent",
    "run_queries",
]

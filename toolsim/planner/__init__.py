"""Budget-aware planners: plan which tools an agent may call, and how often, within a budget.

A :class:`Planner` turns (query, priced candidate APIs, budget, experience) into a
:class:`Plan`; :func:`gate_factory` gives the agent runner the gates that enforce
plans. Built-ins: ``none``, ``btp``, ``btp-mc``, ``btp-replan``, ``greedy``,
``prompt``; more register with :func:`register_planner` or the entry-point group
``toolsim.planners``.
"""

from toolsim.planner.base import (
    Plan,
    PlanItem,
    Planner,
    available_planners,
    get_planner,
    planner_registry,
    register_planner,
)
from toolsim.planner.embeddings import (
    available_embedders,
    embedder_registry,
    get_embedder,
    register_embedder,
)
from toolsim.planner.experience import Experience, ExperienceStore
from toolsim.planner.factory import gate_factory, make_gate, priced_apis
from toolsim.planner.gates import NoPlanGate, PlanGate, PromptGate
from toolsim.planner.knapsack import bounded_knapsack, multiple_choice_knapsack
from toolsim.planner.value import ApiEstimate, Use, estimate

__all__ = [
    "ApiEstimate",
    "Experience",
    "ExperienceStore",
    "NoPlanGate",
    "Plan",
    "PlanGate",
    "PlanItem",
    "Planner",
    "PromptGate",
    "Use",
    "available_embedders",
    "available_planners",
    "bounded_knapsack",
    "embedder_registry",
    "estimate",
    "gate_factory",
    "get_embedder",
    "get_planner",
    "make_gate",
    "multiple_choice_knapsack",
    "planner_registry",
    "priced_apis",
    "register_embedder",
    "register_planner",
]

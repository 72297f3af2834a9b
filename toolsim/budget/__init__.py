"""Budget hooks: prices of API calls, and the gate an agent consults before every call.

The agent runner owns a :class:`Gate` per query (one for the whole DFSDT tree);
planners (``toolsim.planner``) supply gates that enforce their plans.
"""

from toolsim.budget.costs import CostTable, parse_costs
from toolsim.budget.gate import BudgetGate, Gate, GateFactory, PricedApi, Rejection

__all__ = [
    "BudgetGate",
    "CostTable",
    "Gate",
    "GateFactory",
    "PricedApi",
    "Rejection",
    "parse_costs",
]

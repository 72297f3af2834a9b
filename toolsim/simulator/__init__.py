"""Simulators: how a call the cache has never seen gets answered."""

from toolsim.simulator import schema as _schema  # noqa: F401  (registers "schema")
from toolsim.simulator.base import (
    Simulation,
    SimulationRequest,
    Simulator,
    available_simulators,
    create_simulator,
    register_simulator,
)

__all__ = [
    "Simulation",
    "SimulationRequest",
    "Simulator",
    "available_simulators",
    "create_simulator",
    "register_simulator",
]

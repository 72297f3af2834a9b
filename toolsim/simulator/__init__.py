"""Simulators: how a call the cache has never seen gets answered."""

from toolsim.simulator import factories as _factories  # noqa: F401  (registers the built-ins)
from toolsim.simulator.base import (
    KnownEntity,
    Simulation,
    SimulationRequest,
    Simulator,
    available_simulators,
    create_simulator,
    register_simulator,
)
from toolsim.simulator.llm import Endpoint, LLMOptions, LLMSimulator, LLMUnavailable

__all__ = [
    "KnownEntity",
    "Endpoint",
    "LLMOptions",
    "LLMSimulator",
    "LLMUnavailable",
    "Simulation",
    "SimulationRequest",
    "Simulator",
    "available_simulators",
    "create_simulator",
    "register_simulator",
]

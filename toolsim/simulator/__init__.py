"""Simulators: how a call the cache has never seen gets answered."""

from toolsim.simulator.base import (
    KnownEntity,
    Simulation,
    SimulationRequest,
    Simulator,
    available_simulators,
    create_simulator,
    register_simulator,
    simulator_registry,
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
    "simulator_registry",
]

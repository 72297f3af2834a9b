"""Simulators: how a call the cache has never seen gets answered.

The LLM simulator's names are imported on first use (PEP 562): the world, the
schema simulator and the commands that use only them need not load the OpenAI
client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolsim.exports import lazy_exports
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

_EXPORTS = {
    "Endpoint": "toolsim.simulator.llm",
    "LLMSimulator": "toolsim.simulator.llm",
    "LLMUnavailable": "toolsim.simulator.llm",
}

__all__ = [
    "KnownEntity",
    "Endpoint",
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

if TYPE_CHECKING:
    from toolsim.simulator.llm import Endpoint, LLMSimulator, LLMUnavailable

__getattr__ = lazy_exports(__name__, _EXPORTS)

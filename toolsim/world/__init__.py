"""The world's memory: entities seen in stored replies, kept consistent across misses.

:class:`World` stores entity records in the cache backend; :func:`prepare` gives a
miss's simulator the known entities its arguments name; :func:`settle` reconciles
the simulated reply with them. See :mod:`toolsim.world.extract` for the rules.
"""

from dataclasses import replace

from toolsim.simulator.base import SimulationRequest
from toolsim.world.reconcile import settle
from toolsim.world.store import World


def prepare(world: World, request: SimulationRequest) -> SimulationRequest:
    """The request with the known entities its arguments name."""
    known = world.known(request.api, request.arguments)
    return replace(request, known=known) if known else request


__all__ = ["World", "prepare", "settle"]

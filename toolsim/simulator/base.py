"""The Simulator Protocol and its registry.

A simulator answers a call that the cache has never seen. Built-in simulators
are registered exactly like third-party ones (entry-point group
``toolsim.simulators``; see :mod:`toolsim.registry`), so tests can select
scripted fakes the same way users select real backends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from toolsim.cache.entry import CacheEntry, Reply, Source
from toolsim.catalog.models import ApiSpec
from toolsim.registry import Registry


@dataclass(frozen=True, slots=True)
class KnownEntity:
    """An entity of the world that a call's arguments name, with what is known of it.

    ``argument`` is the parameter that named it; ``by_name`` says whether it was
    named by its name or title rather than by its identifier.
    """

    type: str
    id_field: str
    id: Any
    facts: dict[str, Any]
    argument: str = ""
    by_name: bool = False


@dataclass(frozen=True, slots=True)
class SimulationRequest:
    """One call to answer: the API, its normalised arguments, its cache key,
    stored (key, entry) pairs of the same API to show a model as examples, the
    known entities of the world the arguments name (a reply must agree with them),
    and the API's *exemplars*: recorded (never simulated) replies, nearest to the
    call first, for simulators that adapt them (``exemplar_count`` > 0)."""

    api: ApiSpec
    arguments: dict[str, Any]
    key: str
    examples: tuple[tuple[str, CacheEntry], ...] = ()
    known: tuple[KnownEntity, ...] = ()
    exemplars: tuple[tuple[str, CacheEntry], ...] = ()


@dataclass(frozen=True, slots=True)
class Simulation:
    """A simulator's answer and its provenance."""

    reply: Reply
    source: Source = Source.SIMULATED
    simulator: str = ""
    model: str = ""
    prompt_hash: str = ""
    examples: tuple[str, ...] = field(default=())
    #: Facts the world's reconciliation changed: ``{"path", "entity", "was", "now"}``.
    reconciled: tuple[dict[str, Any], ...] = ()


@runtime_checkable
class Simulator(Protocol):
    """Answers calls the cache has not seen. Raise ``UpstreamError`` on failure.

    ``example_count`` and ``example_chars`` say how many stored replies of the
    same API (and how many characters of them) the simulator wants to see. A
    simulator may also have an ``exemplar_count`` (optional, 0 when absent): how
    many recorded replies of the API, nearest to the call, it wants in
    ``request.exemplars``.
    """

    name: str
    example_count: int
    example_chars: int

    async def simulate(self, request: SimulationRequest) -> Simulation:
        """Produce a reply for one call."""
        ...

    async def aclose(self) -> None:
        """Release connections and child processes."""
        ...


SimulatorFactory = Callable[..., Simulator]

#: Simulator factories by name (entry-point group ``toolsim.simulators``); each is
#: called with ``settings=`` and any options.
simulator_registry: Registry[SimulatorFactory] = Registry("simulator", "toolsim.simulators")

#: Register a simulator factory under a name (decorator).
register_simulator = simulator_registry.register


def available_simulators() -> list[str]:
    """Names of every registered simulator, built-in and plug-in."""
    return simulator_registry.names()


def create_simulator(name: str, **options: Any) -> Simulator:
    """Build the simulator registered as ``name``; unknown names list the known ones."""
    return simulator_registry.create(name, **options)

"""The ``exemplar`` simulator: the nearest recorded reply of the API, adapted to the call.

Offline, deterministic and fast. The caller (the server, or the fidelity measure)
hands it the API's exemplars nearest to the call in ``request.exemplars`` (see
:mod:`toolsim.simulator.exemplars`); it adapts the first with
:func:`~toolsim.simulator.adapt.adapt_response` and names it in the provenance
(``examples``). Its reply's source is ``adapted``, so it is reconciled with the
world like any made-up reply, and never becomes an exemplar itself.

With no exemplar it raises :class:`NoExemplar`: the ``auto`` chain goes on to the
next simulator. Registered as ``exemplar`` it has the schema simulator behind it,
so it always answers.
"""

from __future__ import annotations

from toolsim.cache.entry import Reply, Source
from toolsim.errors import UpstreamError
from toolsim.simulator.adapt import adapt_response
from toolsim.simulator.base import Simulation, SimulationRequest, Simulator

#: Exemplars a caller hands over per miss (the nearest first).
EXEMPLAR_COUNT = 5


class NoExemplar(UpstreamError):
    """The API has no recorded reply to adapt."""


class ExemplarSimulator:
    """Adapts the nearest recorded reply of the API; ``fallback`` answers when there is none."""

    example_count = 0  # it needs no prompt examples, only exemplars
    example_chars = 0
    exemplar_count = EXEMPLAR_COUNT

    def __init__(self, fallback: Simulator | None = None) -> None:
        self.fallback = fallback
        self.name = "exemplar" if fallback is None else f"exemplar+{fallback.name}"

    async def simulate(self, request: SimulationRequest) -> Simulation:
        """Adapt the first exemplar of ``request`` to its call."""
        if not request.exemplars:
            if self.fallback is not None:
                return await self.fallback.simulate(request)
            raise NoExemplar(f"no recorded reply of {request.api.function_name} to adapt")
        key, entry = request.exemplars[0]
        response, _changes = adapt_response(
            entry.reply.response, entry.arguments, request.arguments, request.key
        )
        return Simulation(
            reply=Reply(error="", response=response),
            source=Source.ADAPTED,
            simulator="exemplar",
            examples=(key,),
        )

    async def aclose(self) -> None:
        """Close the fallback, if any."""
        if self.fallback is not None:
            await self.fallback.aclose()

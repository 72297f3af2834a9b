"""The ``auto`` simulator: real upstream (optional) -> exemplar -> LLM -> schema (optional).

Each stored entry records which link answered (``simulator`` and ``source``).
The exemplar link answers whenever the API has a recorded reply to adapt (see
:mod:`toolsim.simulator.exemplar`), and passes on otherwise. The schema fallback
answers only when the LLM is *unavailable* (cannot be reached or started) and the
user allowed it; an LLM that answers badly is an error, because silently
switching to made-up template data would change the world under the benchmark.
"""

from __future__ import annotations

import logging

from toolsim.errors import UpstreamError
from toolsim.simulator.base import Simulation, SimulationRequest, Simulator
from toolsim.simulator.exemplar import NoExemplar
from toolsim.simulator.llm import LLMUnavailable

log = logging.getLogger("toolsim.simulator")


class FallbackChain:
    """Tries an upstream relay, then exemplars, then the LLM, then (if allowed) the schema."""

    def __init__(
        self,
        llm: Simulator,
        *,
        upstream: Simulator | None = None,
        exemplar: Simulator | None = None,
        fallback: Simulator | None = None,
    ) -> None:
        self.llm = llm
        self.upstream = upstream
        self.exemplar = exemplar
        self.fallback = fallback
        self.name = "+".join(s.name for s in self._links())
        self.example_count = llm.example_count
        self.example_chars = llm.example_chars
        self.exemplar_count = getattr(exemplar, "exemplar_count", 0) if exemplar else 0

    def _links(self) -> list[Simulator]:
        links = (self.upstream, self.exemplar, self.llm, self.fallback)
        return [link for link in links if link is not None]

    async def simulate(self, request: SimulationRequest) -> Simulation:
        """Answer with the first link that can."""
        if self.upstream is not None:
            try:
                return await self.upstream.simulate(request)
            except UpstreamError as exc:
                log.info("upstream gave no answer for %s: %s", request.api.function_name, exc)
        if self.exemplar is not None:
            try:
                return await self.exemplar.simulate(request)
            except NoExemplar:
                pass
        try:
            return await self.llm.simulate(request)
        except LLMUnavailable as exc:
            if self.fallback is None:
                raise
            log.warning("LLM unavailable (%s); answering from the schema", exc.message)
            return await self.fallback.simulate(request)

    async def aclose(self) -> None:
        """Close every link."""
        for link in self._links():
            await link.aclose()

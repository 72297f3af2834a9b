"""The ``auto`` simulator: real upstream (optional) -> LLM -> schema (optional).

Each stored entry records which link answered (``simulator`` and ``source``).
The schema fallback answers only when the LLM is *unavailable* (cannot be
reached or started) and the user allowed it; an LLM that answers badly is an
error, because silently switching to made-up template data would change the
world under the benchmark.
"""

from __future__ import annotations

import logging

from toolsim.errors import UpstreamError
from toolsim.simulator.base import Simulation, SimulationRequest, Simulator
from toolsim.simulator.llm import LLMUnavailable

log = logging.getLogger("toolsim.simulator")


class FallbackChain:
    """Tries an upstream relay, then the LLM, then (if allowed) the schema simulator."""

    def __init__(
        self,
        llm: Simulator,
        *,
        upstream: Simulator | None = None,
        fallback: Simulator | None = None,
    ) -> None:
        self.llm = llm
        self.upstream = upstream
        self.fallback = fallback
        self.name = "+".join(s.name for s in (upstream, llm, fallback) if s is not None)
        self.example_count = llm.example_count
        self.example_chars = llm.example_chars

    async def simulate(self, request: SimulationRequest) -> Simulation:
        """Answer with the first link that can."""
        if self.upstream is not None:
            try:
                return await self.upstream.simulate(request)
            except UpstreamError as exc:
                log.info("upstream gave no answer for %s: %s", request.api.function_name, exc)
        try:
            return await self.llm.simulate(request)
        except LLMUnavailable as exc:
            if self.fallback is None:
                raise
            log.warning("LLM unavailable (%s); answering from the schema", exc.message)
            return await self.fallback.simulate(request)

    async def aclose(self) -> None:
        """Close every link."""
        for link in (self.upstream, self.llm, self.fallback):
            if link is not None:
                await link.aclose()

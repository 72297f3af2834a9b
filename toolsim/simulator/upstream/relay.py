"""A real StableToolBench/ToolBench API relay: the upstream of ToolBench APIs.

A relay answers with the real API's reply when it can; when the real API is
rate-limited, unauthorised or broken, that failure must not become the
world's permanent answer, so such replies are raised as errors (never cached)
and the next simulator in the chain answers instead.
"""

from __future__ import annotations

import httpx
import orjson

from toolsim.cache.entry import Reply, Source
from toolsim.cache.failures import is_real_answer
from toolsim.errors import UpstreamError
from toolsim.simulator.base import Simulation, SimulationRequest


class UpstreamRelay:
    """Forwards a call to a real API relay speaking the StableToolBench body."""

    name = "upstream"
    example_count = 0
    example_chars = 0

    def __init__(self, url: str, *, timeout: float = 30.0, key: str = "") -> None:
        self.url = url
        self.key = key
        self._client = httpx.AsyncClient(timeout=timeout)

    async def simulate(self, request: SimulationRequest) -> Simulation:
        """Ask the relay; raise :class:`UpstreamError` unless it gave a real answer."""
        api = request.api
        body = {
            "category": api.category,
            "tool_name": api.tool_name,
            "api_name": api.name,
            "tool_input": orjson.dumps(request.arguments).decode(),
            "strip": "",
            "toolbench_key": self.key,
        }
        try:
            answer = await self._client.post(
                self.url, json=body, headers={"toolbench_key": self.key}
            )
            data = answer.json()
            reply = Reply(error=str(data.get("error") or ""), response=data.get("response", ""))
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            raise UpstreamError(f"upstream relay failed: {exc!r}"[:300]) from None
        if not is_real_answer(answer.status_code, reply):
            raise UpstreamError(
                f"upstream relay gave no real answer (HTTP {answer.status_code}): "
                f"{reply.error or reply.response}"[:300]
            )
        return Simulation(reply=reply, source=Source.REAL, simulator=self.name)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()

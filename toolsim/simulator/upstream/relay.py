"""A real StableToolBench/ToolBench API relay: the upstream of ToolBench APIs.

A relay answers with the real API's reply when it can; when the real API is
rate-limited, unauthorised or broken, that failure must not become the
world's permanent answer, so such replies are raised as errors (never cached)
and the next simulator in the chain answers instead.
"""

from __future__ import annotations

import re

import httpx
import orjson

from toolsim.cache.entry import Reply, Source
from toolsim.errors import UpstreamError
from toolsim.simulator.base import Simulation, SimulationRequest

_FAILURE = re.compile(
    r"rate.?limit|too many requests|quota|limit (exceeded|reached)|unauthori[sz]ed|forbidden|"
    r"not subscribed|invalid (api|access) key|api key|blocked|internal server error|"
    r"bad gateway|service unavailable|gateway time-?out|timed? ?out",
    re.IGNORECASE,
)
# A bare status code means failure in an error message, but may be data in a response.
_FAILURE_CODE = re.compile(r"\b(401|403|429|50[0234])\b")


def is_real_answer(status_code: int, reply: Reply) -> bool:
    """Whether a relay's reply is the real API's answer rather than a transport failure.

    Relays wrap failures as short messages; a long response body is data, even
    when it happens to contain a word like "exceeded".
    """
    if status_code != 200:
        return False
    if reply.error and (_FAILURE.search(reply.error) or _FAILURE_CODE.search(reply.error)):
        return False
    short_text = isinstance(reply.response, str) and len(reply.response) < 300
    return not (short_text and _FAILURE.search(reply.response))


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

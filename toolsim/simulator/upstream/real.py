"""The ``upstream`` simulator: the real tool behind each API answers.

One upstream, three routes, chosen by where an API came from:

* an OpenAPI operation: its server (:mod:`toolsim.simulator.upstream.http`);
* an MCP tool: its MCP server (:mod:`toolsim.simulator.upstream.mcp`);
* a ToolBench API: the StableToolBench relay at ``TOOLSIM_UPSTREAM__URL``
  (:mod:`toolsim.simulator.upstream.relay`).

A real reply is a :class:`~toolsim.simulator.base.Simulation` with source
``real`` and simulator ``upstream``: in ``record`` mode the cache stores it as
an ordinary entry with that provenance, and ``replay`` serves it offline. A
failure of the moment raises :class:`UpstreamError`: never stored.
"""

from __future__ import annotations

from collections.abc import Mapping

from toolsim.cache.entry import Reply, Source
from toolsim.catalog.models import HttpOperation, McpTool
from toolsim.errors import UpstreamError
from toolsim.simulator.base import Simulation, SimulationRequest
from toolsim.simulator.upstream.http import OpenApiCaller
from toolsim.simulator.upstream.mcp import McpSession, reply_of
from toolsim.simulator.upstream.relay import UpstreamRelay

#: The simulator name every real reply is stored under.
NAME = "upstream"


class RealTools:
    """Answers each call with the real tool behind its API."""

    name = NAME
    example_count = 0
    example_chars = 0

    def __init__(
        self,
        *,
        relay: UpstreamRelay | None = None,
        openapi: OpenApiCaller | None = None,
        mcp_headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.relay = relay
        self.openapi = openapi or OpenApiCaller(timeout=timeout)
        self._mcp_headers = dict(mcp_headers or {})
        self._timeout = timeout
        self._sessions: dict[str, McpSession] = {}

    async def simulate(self, request: SimulationRequest) -> Simulation:
        """The real tool's reply; :class:`UpstreamError` when there is none to record."""
        api = request.api
        origin = api.origin
        if isinstance(origin, HttpOperation):
            error, response = await self.openapi.call(api, origin, request.arguments)
        elif isinstance(origin, McpTool):
            result = await self._session(origin.server).call(origin.tool, request.arguments)
            error, response = reply_of(result)
        elif self.relay is not None:
            return await self.relay.simulate(request)
        else:
            raise UpstreamError(
                f"no real upstream for {api.function_name}: a ToolBench API needs a "
                "StableToolBench relay (TOOLSIM_UPSTREAM__URL)"
            )
        return Simulation(
            reply=Reply(error=error, response=response), source=Source.REAL, simulator=NAME
        )

    def _session(self, source: str) -> McpSession:
        session = self._sessions.get(source)
        if session is None:
            session = McpSession(source, headers=self._mcp_headers, timeout=self._timeout)
            self._sessions[source] = session
        return session

    async def aclose(self) -> None:
        """Close every connection (and stop stdio MCP servers)."""
        for session in self._sessions.values():
            await session.aclose()
        self._sessions.clear()
        await self.openapi.aclose()
        if self.relay is not None:
            await self.relay.aclose()

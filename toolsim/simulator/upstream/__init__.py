"""Real upstreams: the real tools behind the catalog, answering instead of a simulator.

See :mod:`toolsim.simulator.upstream.real` for the ``upstream`` simulator, and
its three routes: OpenAPI servers, MCP servers and the StableToolBench relay.
"""

from toolsim.simulator.upstream.http import OpenApiCaller
from toolsim.simulator.upstream.mcp import McpSession, list_server, list_servers
from toolsim.simulator.upstream.real import RealTools
from toolsim.simulator.upstream.relay import UpstreamRelay, is_real_answer

__all__ = [
    "McpSession",
    "OpenApiCaller",
    "RealTools",
    "UpstreamRelay",
    "is_real_answer",
    "list_server",
    "list_servers",
]

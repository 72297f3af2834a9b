"""``/mcp``: the catalog as an MCP server over streamable HTTP, for MCP-first agent frameworks.

Every catalog API is an MCP tool named by its function name; a call goes through
:meth:`ToolService.call`, the same cache and simulator path as ``/virtual``.
``/mcp?group=G1_instruction&query_id=88`` scopes listing and calling to one
query's APIs: clients send every request to the URL they were given, so the
query string rides along with each one.

``/mcp?episode=<id>`` (or the ``X-Toolsim-Episode`` header) makes the connection an
episode's: it lists that episode's tools and every call is made inside it.

The endpoint is stateless (no MCP session outlives an HTTP request) and answers
in plain JSON, so any worker of a multi-worker server can serve any request.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from fastapi import FastAPI
from mcp import types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

import toolsim
from toolsim.catalog.models import ApiSpec
from toolsim.catalog.tool_schemas import function_schema
from toolsim.errors import BadRequest, ToolsimError
from toolsim.server.episodes import HEADER as EPISODE_HEADER
from toolsim.server.episodes import Episodes, episodes_of
from toolsim.server.hits import reply_bytes
from toolsim.server.requests import check_values, checked_name
from toolsim.server.service import ToolService

PATH = "/mcp"


def scoped_apis(service: ToolService, query: Mapping[str, str]) -> list[ApiSpec] | None:
    """The APIs of the query named by ``group`` and ``query_id`` in ``query``; None if unscoped."""
    group, query_id = query.get("group"), query.get("query_id")
    if group is None and query_id is None:
        return None
    if group is None or query_id is None:
        raise BadRequest("give both 'group' and 'query_id' to scope to a query")
    found = service.catalog.query(checked_name(group, "group"), checked_name(query_id, "query_id"))
    # A query's own copy may lack details the catalog merged in from elsewhere.
    return [service.catalog.resolve(a.category, a.tool_name, a.name) for a in found.apis]


def mcp_tool(api: ApiSpec) -> types.Tool:
    """The MCP tool describing an API: its function name, description and JSON-schema input."""
    schema = function_schema(api)
    return types.Tool(
        name=schema["name"], description=schema["description"], input_schema=schema["parameters"]
    )


def _query_of(ctx: ServerRequestContext[Any, Any]) -> Mapping[str, str]:
    # The HTTP request is attached by the streamable HTTP transport only.
    request = ctx.request
    return request.query_params if isinstance(request, Request) else {}


def _episode_of(ctx: ServerRequestContext[Any, Any]) -> str | None:
    """The episode the connection names: ``?episode=`` in its URL, or the header."""
    request = ctx.request
    if not isinstance(request, Request):
        return None
    return request.query_params.get("episode") or request.headers.get(EPISODE_HEADER)


def build_server(service: ToolService, episodes: Episodes | None = None) -> Server[Any]:
    """A low-level MCP server listing the catalog's APIs and calling them through ``service``
    (or inside the episode a connection names, through ``episodes``)."""

    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        try:
            episode = _episode_of(ctx)
            if episode is not None:
                scoped = episodes_of(episodes)
                state, _log = await scoped.state(episode)
                apis: list[ApiSpec] | None = [service.catalog.get(ref) for ref in state.apis]
            else:
                apis = scoped_apis(service, _query_of(ctx))
        except ToolsimError as exc:
            raise MCPError(code=types.INVALID_PARAMS, message=exc.message) from None
        named = service.catalog.named(apis)
        return types.ListToolsResult(tools=[mcp_tool(api) for api in named.values()])

    async def call_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        try:
            name = checked_name(params.name, "name")
            arguments = dict(params.arguments or {})
            check_values(arguments)  # what /virtual and /v1 refuse when they parse
            episode = _episode_of(ctx)
            if episode is not None:
                result = await episodes_of(episodes).call(episode, name, arguments)
            else:
                within = scoped_apis(service, _query_of(ctx))
                api = service.catalog.by_function(name, within=within)
                result = await service.call(api, arguments)
        except ToolsimError as exc:
            # Unknown tool, invalid arguments, replay miss, simulator failure: the
            # agent sees why, as a tool error rather than a protocol error.
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=exc.message)], is_error=True
            )
        text = reply_bytes(result.reply.error, result.reply.response).decode()
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)])

    return Server(
        "toolsim",
        version=toolsim.__version__,
        instructions="Virtual tool APIs: every call is answered from a replay cache or simulated.",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        # No input schema declares Mcp-Param headers; without this the SDK would
        # list every tool on each modern-protocol call to find out.
        get_tool_input_schema=lambda name: None,
    )


def origin_allowed(origin: str | None, allowed: Sequence[str]) -> bool:
    """Whether a request with this ``Origin`` header may use ``/mcp``.

    The MCP transport specification asks servers to check ``Origin``: a web page
    (say, one whose name an attacker re-pointed at 127.0.0.1) could otherwise drive
    a local MCP server. Clients that are not browsers send none and are served; a
    browser page is served only from an origin in ``allowed`` (``scheme://host:port``,
    or ``scheme://host:*`` for any port).
    """
    if origin is None:
        return True
    origin = origin.rstrip("/")
    for entry in allowed:
        if origin == entry or (entry.endswith(":*") and origin.startswith(entry[:-1])):
            return True
    return False


class McpEndpoint:
    """The ASGI app at ``/mcp``; :meth:`run` must span the server's lifespan."""

    def __init__(
        self, server: Server[Any], max_body_bytes: int, allowed_origins: Sequence[str] = ()
    ) -> None:
        self.server = server
        self.max_body_bytes = max_body_bytes
        self.allowed_origins = tuple(allowed_origins)
        self._manager: StreamableHTTPSessionManager | None = None

    @contextlib.asynccontextmanager
    async def run(self) -> AsyncIterator[None]:
        """Serve MCP requests while inside this context (a manager runs only once: one per run)."""
        manager = StreamableHTTPSessionManager(
            app=self.server,
            json_response=True,
            stateless=True,
            max_request_body_size=self.max_body_bytes,
        )
        async with manager.run():
            self._manager = manager
            try:
                yield
            finally:
                self._manager = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        raw = next((value for name, value in scope["headers"] if name == b"origin"), None)
        origin = None if raw is None else raw.decode("latin-1")
        if not origin_allowed(origin, self.allowed_origins):
            message = (
                f"requests from web pages at {origin} may not use /mcp; add that origin to "
                "TOOLSIM_HARDENING__ALLOWED_ORIGINS to allow it"
            )
            error = {"code": types.INVALID_REQUEST, "message": message}
            body = {"jsonrpc": "2.0", "id": None, "error": error}
            await JSONResponse(body, status_code=403)(scope, receive, send)
            return
        if self._manager is None:
            # An app used without its lifespan (in-process test clients) has no MCP.
            message = "the MCP endpoint serves only while the server's lifespan runs"
            error = {"code": types.INTERNAL_ERROR, "message": message}
            body = {"jsonrpc": "2.0", "id": None, "error": error}
            await JSONResponse(body, status_code=503)(scope, receive, send)
            return
        await self._manager.handle_request(scope, receive, send)


class _McpPath:
    """ASGI middleware handing ``/mcp`` to the endpoint and everything else on."""

    def __init__(self, app: ASGIApp, endpoint: McpEndpoint) -> None:
        self.app = app
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == PATH:
            await self.endpoint(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def mount_mcp(
    app: FastAPI,
    service: ToolService,
    max_body_bytes: int,
    allowed_origins: Sequence[str] = (),
    episodes: Episodes | None = None,
) -> McpEndpoint:
    """Serve MCP at ``/mcp`` on ``app``; the endpoint is also ``app.state.mcp``.

    Like ``/virtual`` it is served in front of the routes, not as one: it speaks
    JSON-RPC with its own error shape, not the native one. Only the web pages of
    ``allowed_origins`` may use it (see :func:`origin_allowed`).
    """
    endpoint = McpEndpoint(build_server(service, episodes), max_body_bytes, allowed_origins)
    app.add_middleware(_McpPath, endpoint=endpoint)
    app.state.mcp = endpoint
    return endpoint

"""The native REST API: OpenAI tool schemas and calls by function name."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from toolsim.catalog.models import ApiSpec
from toolsim.catalog.parameters import ParamNames
from toolsim.catalog.tool_schemas import openai_tools
from toolsim.errors import BadRequest
from toolsim.server.episodes import HEADER as EPISODE_HEADER
from toolsim.server.episodes import episodes_of
from toolsim.server.hits import provenance_headers, validation_headers
from toolsim.server.requests import checked_name, read_json_body
from toolsim.server.service import ToolService

router = APIRouter(prefix="/v1")


def _service(request: Request) -> ToolService:
    return request.app.state.service


def _scope(service: ToolService, group: str | None, query_id: str | None) -> list[ApiSpec] | None:
    if group is None and query_id is None:
        return None
    if group is None or query_id is None:
        raise BadRequest("give both 'group' and 'query_id' to scope to a query")
    query = service.catalog.query(checked_name(group, "group"), query_id)
    # A query's own copy may lack details the catalog merged in from elsewhere.
    return [service.catalog.resolve(a.category, a.tool_name, a.name) for a in query.apis]


@router.get("/tools", summary="OpenAI tool schemas")
async def list_tools(
    request: Request,
    tools: str | None = Query(None, description="Comma-separated tool names."),
    group: str | None = Query(None, description="Query group (query file stem)."),
    query_id: str | None = Query(None, description="Query id within the group."),
    param_names: Annotated[
        ParamNames,
        Query(
            description="Parameter names: as documented, or 'stb' as StableToolBench's client "
            "showed them to its agents (either spelling is accepted in calls)."
        ),
    ] = ParamNames.DOCUMENTED,
) -> dict[str, Any]:
    """OpenAI ``tools`` for every API, or those of some tools, or those of one query."""
    service = _service(request)
    apis = _scope(service, group, query_id)
    if tools is not None:
        names = [checked_name(n.strip(), "tools") for n in tools.split(",") if n.strip()]
        if not names:
            raise BadRequest("'tools' names no tool")
        named = service.catalog.tools_named(names)
        apis = named if apis is None else [a for a in apis if a in named]
    chosen = apis if apis is not None else list(service.catalog)
    return {"tools": openai_tools(chosen, param_names)}


@router.post(
    "/tools/{function_name}",
    summary="Call a tool API by its function name",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def call_tool(
    request: Request,
    function_name: str,
    group: str | None = Query(None, description="Query group, to disambiguate names."),
    query_id: str | None = Query(None, description="Query id within the group."),
) -> JSONResponse:
    """Call an API with a JSON object of arguments; reply ``{"error", "response"}``.

    With an ``X-Toolsim-Episode`` header the call is made inside that episode.
    """
    service = _service(request)
    name = checked_name(function_name, "function_name")
    arguments = await read_json_body(request, request.app.state.settings.server.max_body_bytes)
    if not isinstance(arguments, dict):
        raise BadRequest("the body must be a JSON object of arguments")
    episode = request.headers.get(EPISODE_HEADER)
    if episode is not None:
        episodes = episodes_of(request.app.state.episodes)
        result = await episodes.call(episode, name, arguments)
    else:
        api = service.catalog.by_function(name, within=_scope(service, group, query_id))
        result = await service.call(api, arguments)
    headers = provenance_headers(result.source, result.cached) + validation_headers(result.problems)
    return JSONResponse(
        {"error": result.reply.error, "response": result.reply.response},
        headers={name.decode(): value.decode() for name, value in headers},
    )

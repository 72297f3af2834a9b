"""``POST /virtual``: the StableToolBench protocol, so existing agents work unchanged.

This endpoint carries nearly all benchmark traffic. A cache hit is answered
by the front door (:mod:`toolsim.server.front`) before any middleware; everything
else (misses, errors, other methods) by the small ASGI middleware here, in front
of FastAPI's routing (which costs more per request than a cache hit does). Its
OpenAPI description is added separately.

Every tool-level outcome (success, unknown tool, bad or unparsable arguments,
replay miss, simulator failure) is HTTP 200 with ``{"error", "response"}``,
because the reference clients replace the body of any other status with a
generic message. Only a request that is not a tool call at all (malformed JSON,
not an object, oversize, hostile names) gets a 4xx, in the same shape.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from toolsim.catalog.models import ApiSpec
from toolsim.errors import BadRequest, PayloadTooLarge, ToolsimError
from toolsim.server.arguments import parse_tool_input
from toolsim.server.episodes import HEADER as EPISODE_HEADER
from toolsim.server.episodes import Episodes, episodes_of
from toolsim.server.hits import provenance_headers, reply_bytes
from toolsim.server.requests import checked_name
from toolsim.server.service import CallResult, ToolService

PATH = "/virtual"
_JSON_HEADERS = [(b"content-type", b"application/json")]
_EPISODE_HEADER = EPISODE_HEADER.encode()


def virtual_call(service: ToolService, body: Any) -> tuple[ApiSpec, dict[str, Any]]:
    """The API and arguments a parsed ``/virtual`` body asks for; raise :class:`ToolsimError`."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    category = body.get("category") or ""
    api = service.catalog.resolve(
        checked_name(category, "category") if category else "",
        checked_name(body.get("tool_name"), "tool_name"),
        checked_name(body.get("api_name"), "api_name"),
    )
    return api, parse_tool_input(body.get("tool_input"))


async def answer_virtual(
    service: ToolService, body: Any, episodes: Episodes | None = None, episode: str | None = None
) -> CallResult:
    """Answer one parsed ``/virtual`` body (inside ``episode``, when one is named);
    raise :class:`ToolsimError` for any failure."""
    api, arguments = virtual_call(service, body)
    if episode is None:
        return await service.call(api, arguments)
    return await episodes_of(episodes).call(episode, api, arguments)


def episode_of(scope: Scope) -> str | None:
    """The episode a request names in its ``X-Toolsim-Episode`` header, if any."""
    for name, value in scope["headers"]:
        if name == _EPISODE_HEADER:
            return value.decode("latin-1")
    return None


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise PayloadTooLarge(f"request body over the {limit}-byte limit", limit=limit)
    chunks = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BadRequest("client disconnected")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body over the {limit}-byte limit", limit=limit)
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _send(send: Send, status: int, payload: bytes, extra: list | None = None) -> None:
    await send(
        {"type": "http.response.start", "status": status, "headers": _JSON_HEADERS + (extra or [])}
    )
    await send({"type": "http.response.body", "body": payload})


class VirtualEndpoint:
    """ASGI middleware serving ``POST /virtual`` and passing everything else on."""

    def __init__(
        self,
        app: ASGIApp,
        service: ToolService,
        max_body_bytes: int,
        episodes: Episodes | None = None,
    ) -> None:
        self.app = app
        self.service = service
        self.max_body_bytes = max_body_bytes
        self.episodes = episodes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if scope["type"] != "http" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            await _send(send, 405, reply_bytes("use POST /virtual", ""), [(b"allow", b"POST")])
            return
        try:
            body = orjson.loads(await _read_body(scope, receive, self.max_body_bytes))
            result = await answer_virtual(self.service, body, self.episodes, episode_of(scope))
        except orjson.JSONDecodeError as exc:
            await _send(send, 400, reply_bytes(f"malformed JSON body: {exc}", ""))
        except (BadRequest, PayloadTooLarge) as exc:
            # Not a tool call at all: say so with a 4xx, in the reply shape.
            await _send(send, exc.status_code, reply_bytes(exc.message, ""))
        except ToolsimError as exc:
            # A tool-level failure: the agent sees it as the API's error message.
            await _send(send, 200, reply_bytes(exc.message, ""))
        else:
            reply = reply_bytes(result.reply.error, result.reply.response)
            await _send(send, 200, reply, list(provenance_headers(result.source, result.cached)))


_BODY_SCHEMA = {
    "type": "object",
    "required": ["category", "tool_name", "api_name"],
    "properties": {
        "category": {"type": "string", "example": "Weather"},
        "tool_name": {"type": "string", "example": "SkyCast Weather"},
        "api_name": {"type": "string", "example": "Current Weather"},
        "tool_input": {
            "oneOf": [{"type": "string"}, {"type": "object"}],
            "description": "The arguments: a JSON object or a string holding one.",
        },
        "strip": {"description": "Ignored."},
        "toolbench_key": {"description": "Ignored."},
    },
}
_REPLY_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Reply"}}}

VIRTUAL_OPENAPI = {
    "post": {
        "summary": "Call a tool API (StableToolBench protocol)",
        "operationId": "virtual",
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _BODY_SCHEMA}},
        },
        "responses": {
            "200": {
                "description": "The reply, or a tool-level error in `error`.",
                "content": _REPLY_CONTENT,
            },
            "400": {
                "description": "Not a tool call (malformed JSON, hostile names).",
                "content": _REPLY_CONTENT,
            },
            "405": {"description": "Not POST.", "content": _REPLY_CONTENT},
            "413": {"description": "Body over the size limit.", "content": _REPLY_CONTENT},
        },
    }
}

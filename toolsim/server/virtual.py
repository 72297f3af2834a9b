"""``POST /virtual``: the StableToolBench protocol, so existing agents work unchanged.

This door carries nearly all benchmark traffic, so it is served whole by one
ASGI layer in front of FastAPI (whose middleware costs more per request than a
cache hit does; :mod:`toolsim.server.layers` shows where it sits). Each request
is taken in one pass: the body is read once, the call parsed, resolved,
validated and keyed once (memoised by the raw body, since clients repeat calls
byte for byte); a hit that process memory keeps ready is sent as is; a miss is
answered from that same keyed call, under the request time limit.

Every tool-level outcome (success, unknown tool, bad or unparsable arguments,
replay miss, simulator failure) is HTTP 200 with ``{"error", "response"}``,
because the reference clients replace the body of any other status with a
generic message. Only a request that is not a tool call at all (malformed JSON,
not an object, oversize, hostile names, a body not declared as JSON) gets a 4xx,
in the same shape. A tool-level failure that is the world's, not the API's (see
:func:`toolsim.errors.is_infrastructure`), carries a header saying so.

Only the wait for the body is watched by the time limit on a hit (from the
moment the request came in): after it a hit awaits nothing but its two sends.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from toolsim.catalog.models import ApiSpec
from toolsim.errors import (
    BadRequest,
    InvalidArguments,
    PayloadTooLarge,
    ToolsimError,
    UnsupportedMediaType,
)
from toolsim.server.arguments import parse_tool_input
from toolsim.server.asgi import VIRTUAL_PATH
from toolsim.server.episodes import HEADER as EPISODE_HEADER
from toolsim.server.episodes import Episodes, episodes_of
from toolsim.server.hits import (
    PreparedHit,
    provenance_headers,
    reply_bytes,
    validation_headers,
)
from toolsim.server.requests import (
    checked_name,
    declares_json,
    not_json,
    parse_json,
    receive_body,
)
from toolsim.server.service import KeyedCall, ToolService
from toolsim.server.timeouts import RequestTimeout

PATH = VIRTUAL_PATH
_JSON_HEADERS = [(b"content-type", b"application/json")]
#: Bodies longer than this are not memoised (their key is computed on each hit).
MAX_MEMO_BODY = 4096
_EPISODE_HEADER = EPISODE_HEADER.encode()

log = logging.getLogger("toolsim.server")


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


def episode_of(scope: Scope) -> str | None:
    """The episode a request names in its ``X-Toolsim-Episode`` header, if any."""
    for name, value in scope["headers"]:
        if name == _EPISODE_HEADER:
            return value.decode("latin-1")
    return None


async def _send(send: Send, status: int, payload: bytes, extra: Any = ()) -> None:
    await send(
        {"type": "http.response.start", "status": status, "headers": [*_JSON_HEADERS, *extra]}
    )
    await send({"type": "http.response.body", "body": payload})


class VirtualDoor:
    """ASGI layer serving ``POST /virtual`` whole and passing every other request to ``app``.

    Args:
        app: The next layer, for every other path.
        service: The tool service (its memory holds the prepared hits).
        max_body_bytes: Longer bodies get 413.
        limit: The request time limit to serve under; None when an outer layer applies it
            (with telemetry on, the door sits inside FastAPI, behind the limit).
        answer_hits: False answers every call through the service (hits too), so that
            nothing is skipped (telemetry traces each request).
        episodes: The server's episodes: a call naming one (``X-Toolsim-Episode``) is made
            inside it, never answered from the shared hits alone.
    """

    def __init__(
        self,
        app: ASGIApp,
        service: ToolService,
        max_body_bytes: int,
        *,
        limit: RequestTimeout | None = None,
        answer_hits: bool = True,
        episodes: Episodes | None = None,
    ) -> None:
        self.app = app
        self.episodes = episodes
        self.service = service
        self.max_body_bytes = max_body_bytes
        self.limit = limit
        # Raw body -> cache key: the same bytes always name the same call.
        self._keys: OrderedDict[bytes, str] = OrderedDict()
        self._hits = answer_hits and service.memory.capacity > 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if scope["type"] != "http" or scope["path"] != PATH:
            await self.app(scope, receive, send)
        elif scope["method"] != "POST":
            await _send(send, 405, reply_bytes("use POST /virtual", ""), [(b"allow", b"POST")])
        elif not declares_json(scope["headers"]):  # cheap: a pass over a few headers
            await self._refuse(send, not_json(scope["headers"]))
        elif self.limit is None:
            await self._serve(scope, receive, send)
        else:
            await self._serve_limited(scope, receive, send, self.limit)

    async def _serve_limited(
        self, scope: Scope, receive: Receive, send: Send, limit: RequestTimeout
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        watched = limit.watch(task)
        try:
            body = await receive_body(scope, receive, self.max_body_bytes)
        except asyncio.CancelledError:
            cut = limit.cut(task)
            limit.release(task, watched)
            if not cut:
                raise
            await limit.answer_cut(scope, send)
            return
        except ToolsimError as exc:
            limit.release(task, watched)
            await self._refuse(send, exc)
            return
        episode = episode_of(scope)
        hit = self._kept_hit(body) if episode is None else None
        if hit is not None:
            limit.release(task, watched)
            await send(hit.start)
            await send(hit.body)
            return

        async def answer(scope: Scope, receive: Receive, send: Send) -> None:
            await self._answer(body, send, episode)

        await limit.limited(scope, receive, send, watched, app=answer)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body = await receive_body(scope, receive, self.max_body_bytes)
        except ToolsimError as exc:
            await self._refuse(send, exc)
            return
        episode = episode_of(scope)
        hit = self._kept_hit(body) if episode is None else None
        if hit is not None:
            await send(hit.start)
            await send(hit.body)
            return
        await self._answer(body, send, episode)

    def _kept_hit(self, body: bytes) -> PreparedHit | None:
        """The prepared hit of a body seen before, when memory still keeps it (counted)."""
        if not self._hits:
            return None
        key = self._keys.get(body)
        return None if key is None else self.service.kept_hit(key)

    async def _answer(self, body: bytes, send: Send, episode: str | None = None) -> None:
        """Parse and key the call once, then answer it from memory, the store or a simulation
        (inside ``episode``, when the request names one)."""
        try:
            api, arguments = virtual_call(self.service, parse_json(body))
            if episode is not None:
                result = await episodes_of(self.episodes).call(episode, api, arguments)
            else:
                try:
                    call = self._keyed(body, api, arguments)
                except InvalidArguments as invalid:  # unless a reference cache recorded it so
                    result = await self.service.answer_invalid(api, arguments, invalid)
                else:
                    hit = self.service.kept_hit(call.key) if self._hits else None
                    if hit is not None:
                        await send(hit.start)
                        await send(hit.body)
                        return
                    result = await self.service.answer(call)
        except ToolsimError as exc:
            await self._refuse(send, exc)
        except Exception:
            log.exception("unhandled error on POST %s", PATH)
            await _send(send, 500, reply_bytes("internal server error", ""))
        else:
            reply = reply_bytes(result.reply.error, result.reply.response)
            headers = provenance_headers(result.source, result.cached)
            await _send(send, 200, reply, headers + validation_headers(result.problems))

    def _keyed(self, body: bytes, api: ApiSpec, arguments: dict[str, Any]) -> KeyedCall:
        call = self.service.key_call(api, arguments)
        if self._hits and len(body) <= MAX_MEMO_BODY:
            if len(self._keys) >= self.service.memory.capacity:
                self._keys.popitem(last=False)
            self._keys[body] = call.key
        return call

    @staticmethod
    async def _refuse(send: Send, exc: ToolsimError) -> None:
        if isinstance(exc, BadRequest | PayloadTooLarge | UnsupportedMediaType):
            # Not a tool call at all: say so with a 4xx, in the reply shape.
            await _send(send, exc.status_code, reply_bytes(exc.message, ""))
        else:
            # A tool-level failure: the agent sees it as the API's error message (with the
            # headers a real API would send, such as an injected rate limit's Retry-After).
            extra = [(name.encode(), value.encode()) for name, value in exc.headers().items()]
            await _send(send, 200, reply_bytes(exc.message, ""), extra)


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
            "415": {
                "description": "Body not declared as JSON (Content-Type: application/json).",
                "content": _REPLY_CONTENT,
            },
        },
    }
}

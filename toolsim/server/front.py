"""The front door: ``POST /virtual`` cache hits answered before any middleware.

Nearly all benchmark traffic is ``/virtual`` hits, and each layer a request
passes through (FastAPI's error, telemetry and body-size middleware, the time
limit, the MCP path check) costs more per request than the hit itself. So every
request enters here first. A hit needs only its body: it is read whole, the
call's cache key found (memoised by the raw body, since clients repeat calls
byte for byte), and the reply that process memory keeps ready to send is sent.
Anything else (a miss, an error, another path or method, a body over the size
limit, a reply not in memory) goes on, with what was read of the body, to the
full stack behind the request time limit, where it gets every guarantee it had
before.

Only the wait for the body is watched by the time limit here (from the moment
the request came in, for a request that goes on too): after it a hit awaits
nothing but its two sends.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from toolsim.server.episodes import HEADER as EPISODE_HEADER
from toolsim.server.service import ToolService
from toolsim.server.timeouts import RequestTimeout
from toolsim.server.virtual import PATH, virtual_call

#: Bodies longer than this are not memoised (their key is computed on each hit).
MAX_MEMO_BODY = 4096
_EPISODE_HEADER = EPISODE_HEADER.encode()


class HitPath:
    """ASGI front door answering ``/virtual`` hits from memory; the rest goes to ``limit``.

    Args:
        limit: The request time limit, wrapping the full application.
        service: The tool service whose memory holds the prepared hits.
        max_body_bytes: Bodies longer than this go on (to be refused with 413).
        enabled: False sends every request on (as with telemetry on: hits are traced too).
    """

    def __init__(
        self,
        limit: RequestTimeout,
        service: ToolService,
        max_body_bytes: int,
        *,
        enabled: bool = True,
    ) -> None:
        self.limit = limit
        self.service = service
        self.max_body_bytes = max_body_bytes
        # Raw body -> cache key: the same bytes always name the same call.
        self._keys: OrderedDict[bytes, str] = OrderedDict()
        self._enabled = enabled and service.memory.capacity > 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if not (
            self._enabled
            and scope["type"] == "http"
            and scope["path"] == PATH
            and scope["method"] == "POST"
            and not _names_episode(scope)
        ):
            await self.limit(scope, receive, send)
            return
        task = asyncio.current_task()
        assert task is not None
        watched = self.limit.watch(task)
        try:
            body = await self._read_body(receive)
        except asyncio.CancelledError:
            cut = self.limit.cut(task)
            self.limit.release(task, watched)
            if not cut:
                raise
            await self.limit.answer_cut(scope, send)
            return
        hit = None
        if isinstance(body, bytes):
            key = self._keys.get(body) or self._key_of(body)
            if key is not None:
                hit = self.service.kept_hit(key)  # counted
        if hit is None:
            if isinstance(body, bytes):
                body = [{"type": "http.request", "body": body, "more_body": False}]
            await self.limit.limited(scope, _replaying(body, receive), send, watched)
            return
        self.limit.release(task, watched)
        await send(hit.start)
        await send(hit.body)

    async def _read_body(self, receive: Receive) -> bytes | list[Message]:
        """The whole body; or, if it is too long or the client left, the messages received."""
        message = await receive()
        if message["type"] == "http.request" and not message.get("more_body", False):
            return message.get("body", b"")  # nearly always: the body came in one piece
        messages = [message]
        size = len(message.get("body", b""))
        while message["type"] == "http.request" and message.get("more_body", False):
            if size > self.max_body_bytes:
                return messages
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
        if message["type"] != "http.request":
            return messages
        return b"".join(m.get("body", b"") for m in messages)

    def _key_of(self, body: bytes) -> str | None:
        """The cache key of a valid call; None for anything the full path must answer."""
        if len(body) > self.max_body_bytes or not self.service.answers_hits:
            return None
        try:
            api, arguments = virtual_call(self.service, orjson.loads(body))
            _, key = self.service.canonical_call(api, arguments)
        except Exception:
            # Bad JSON, an unknown tool, invalid arguments, or a fault: the full
            # path gives the error (and reports a fault), as for any request.
            return None
        if len(body) <= MAX_MEMO_BODY:
            if len(self._keys) >= self.service.memory.capacity:
                self._keys.popitem(last=False)
            self._keys[body] = key
        return key


def _names_episode(scope: Scope) -> bool:
    """Whether a request names an episode, whose calls the full path answers."""
    return any(name == _EPISODE_HEADER for name, _value in scope["headers"])


def _replaying(received: list[Message], receive: Receive) -> Receive:
    """``receive``, giving back the messages already received first."""
    pending = list(reversed(received))

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


def build_front(
    app: ASGIApp,
    service: ToolService,
    *,
    request_timeout: float,
    max_body_bytes: int,
    answer_hits: bool = True,
) -> HitPath:
    """The hit path in front of ``app`` behind the request time limit.

    ``answer_hits`` False leaves every request to ``app`` (still time-limited).
    """
    limit = RequestTimeout(app, seconds=request_timeout, on_timeout=service.metrics.count_timeout)
    return HitPath(limit, service, max_body_bytes, enabled=answer_hits)

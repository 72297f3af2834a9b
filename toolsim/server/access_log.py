"""One JSON access-log line per request on the ``toolsim.access`` logger.

Only the method, path, status, duration and (for ``/v1/tools/{name}``) the
function name are logged: never headers, query strings or bodies, so no token
or argument can leak into logs.
"""

from __future__ import annotations

import logging
import sys
import time

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("toolsim.access")

_CALL_PREFIX = "/v1/tools/"
_MAX_PATH = 512  # a hostile 10 kB path must not become a 10 kB log line


class AccessLog:
    """ASGI middleware logging every HTTP request as one JSON line when it ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        _make_emitted()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500  # what the server answers when the app fails before responding

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            path = scope["path"]
            line = {
                "method": scope["method"],
                "path": path[:_MAX_PATH],
                "status": status,
                "duration_ms": round((time.perf_counter() - began) * 1000, 2),
            }
            if path.startswith(_CALL_PREFIX) and "/" not in path[len(_CALL_PREFIX) :]:
                line["function"] = path[len(_CALL_PREFIX) :][:_MAX_PATH]
            log.info("%s", orjson.dumps(line).decode())


def _make_emitted() -> None:
    """Let INFO lines through; print them to stderr if no handler would receive them."""
    log.setLevel(logging.INFO)
    if not log.hasHandlers():
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)

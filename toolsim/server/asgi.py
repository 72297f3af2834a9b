"""Answering from pure ASGI middleware, in the error shape the path's clients expect."""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from starlette.types import Scope, Send

#: The StableToolBench door: its errors keep the reply shape ``{"error", "response"}``.
VIRTUAL_PATH = "/virtual"


async def send_error(
    scope: Scope,
    send: Send,
    status: int,
    code: str,
    message: str,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    """Send a complete error response: the reply shape on ``/virtual``, else the native one."""
    if scope.get("path") == VIRTUAL_PATH:
        body = orjson.dumps({"error": message, "response": ""})
    else:
        body = orjson.dumps({"error": {"type": code, "message": message, "details": {}}})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

"""Reading request bodies and names safely: size limits, JSON, hostile names."""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.requests import Request
from starlette.types import Receive, Scope

from toolsim.errors import BadRequest, PayloadTooLarge

_HOSTILE = re.compile(r"\.\.|[\x00-\x1f]")

#: Longer names than this are not names but attacks or accidents.
MAX_NAME_LENGTH = 512


async def receive_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole body of an HTTP request: the one reader of every door.

    Refuses a body over ``limit`` bytes as soon as that is known (from its declared
    length, else while it arrives).

    Raises:
        PayloadTooLarge: the body is longer than ``limit``.
        BadRequest: the client disconnected before sending it all.
    """
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise PayloadTooLarge(f"request body over the {limit}-byte limit", limit=limit)
    message = await receive()
    if message["type"] == "http.request" and not message.get("more_body", False):
        body: bytes = message.get("body", b"")  # nearly always: the body came in one piece
        if len(body) > limit:
            raise PayloadTooLarge(f"request body over the {limit}-byte limit", limit=limit)
        return body
    chunks = []
    size = 0
    while True:
        if message["type"] != "http.request":
            raise BadRequest("client disconnected")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body over the {limit}-byte limit", limit=limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
        message = await receive()


def parse_json(body: bytes) -> Any:
    """The JSON document of a request body.

    Raises:
        BadRequest: the body is empty or not JSON.
    """
    if not body:
        raise BadRequest("empty request body; send a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON body: {exc}") from None


async def read_json_body(request: Request, limit: int) -> Any:
    """Read and parse the JSON body of a route's request (see :func:`receive_body`)."""
    return parse_json(await receive_body(request.scope, request.receive, limit))


def checked_name(value: Any, field: str) -> str:
    """Return ``value`` if it is a plausible tool/API/category name, else raise BadRequest.

    Names are only ever dictionary keys in toolsim, never paths; still, a name
    with NUL, control characters or ``..`` can only be an attack or a bug, and
    saying so is clearer than "not found".
    """
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"'{field}' must be a non-empty string", field=field)
    if len(value) > MAX_NAME_LENGTH:
        raise BadRequest(f"'{field}' is longer than {MAX_NAME_LENGTH} characters", field=field)
    if _HOSTILE.search(value):
        raise BadRequest(f"'{field}' contains '..' or control characters", field=field)
    return value

"""Reading request bodies and names safely: size limits, JSON, hostile names.

Every door reads JSON one way (:func:`loads`, and :func:`check_values` for what
the MCP SDK parsed itself): RFC 8259 JSON, so no ``NaN`` or ``Infinity``;
integers of any size read exactly (a float in their place would make another
cache key, and a recorded call would never replay); nesting at most
:data:`~toolsim.cache.keys.MAX_DEPTH` levels deep in arguments. And every door
that takes a body takes only one declared as JSON (:func:`declares_json`).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson
from starlette.requests import Request
from starlette.types import Receive, Scope

from toolsim.cache.keys import MAX_DEPTH, too_deep
from toolsim.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

_HOSTILE = re.compile(r"\.\.|[\x00-\x1f]")

#: Longer names than this are not names but attacks or accidents.
MAX_NAME_LENGTH = 512


#: Twenty digits in a row: maybe an integer beyond 64 bits, which orjson reads as a float.
_LONG_NUMBER_BYTES = re.compile(rb"[0-9]{20}")
_LONG_NUMBER_TEXT = re.compile(r"[0-9]{20}")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # pragma: no cover - orjson refused it first


def loads(data: bytes | str) -> Any:
    """Parse JSON as every door does; raise :class:`orjson.JSONDecodeError` when it is not.

    orjson does the work (and refuses ``NaN``, ``Infinity`` and numbers that overflow
    a double); only when the text holds a run of 20 digits is it parsed again by the
    standard library, so that integers beyond 64 bits stay exact.
    """
    value = orjson.loads(data)
    long_number = (
        _LONG_NUMBER_BYTES.search(data)
        if isinstance(data, bytes)
        else _LONG_NUMBER_TEXT.search(data)
    )
    if long_number is None:
        return value
    try:
        return json.loads(data, parse_constant=_no_constant)
    except RecursionError:
        raise orjson.JSONDecodeError("nested too deep", str(data[:80]), 0) from None


def check_values(value: Any) -> None:
    """Refuse what :func:`loads` never yields, in JSON another parser read (the MCP SDK's):
    ``NaN`` and infinities, and nesting deeper than :data:`MAX_DEPTH`."""
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise BadRequest(f"{item} is not a JSON number; send a finite number or a string")
        if isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise too_deep()
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)


def declares_json(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether an ASGI request's headers declare a JSON body (``application/json``, ``+json``).

    A web page may send any site a "simple" request (``text/plain``, a form, or no
    type at all) without asking first; one that declares JSON it may not. Refusing
    the rest keeps pages a browser visits from writing into the cache. Cheap: it
    runs on every ``/virtual`` hit.
    """
    for name, value in headers:
        if name == b"content-type":
            if value == b"application/json":  # what clients send, nearly always
                return True
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


def not_json(headers: list[tuple[bytes, bytes]]) -> UnsupportedMediaType:
    """The error for a body whose headers do not declare it JSON."""
    declared = next((value for name, value in headers if name == b"content-type"), None)
    shown = "none" if declared is None else repr(declared.decode("latin-1"))
    return UnsupportedMediaType(
        f"send the body as JSON with Content-Type: application/json (got {shown})"
    )


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
        return loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON body: {exc}") from None


async def read_json_body(request: Request, limit: int) -> Any:
    """Read and parse the JSON body of a route's request (see :func:`receive_body`); a body
    not declared as JSON is refused (see :func:`declares_json`)."""
    if not declares_json(request.scope["headers"]):
        raise not_json(request.scope["headers"])
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

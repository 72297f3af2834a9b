"""Reading request bodies and names safely: size limits, JSON, hostile names."""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.requests import Request

from toolsim.errors import BadRequest, PayloadTooLarge

_HOSTILE = re.compile(r"\.\.|[\x00-\x1f]")

#: Longer names than this are not names but attacks or accidents.
MAX_NAME_LENGTH = 512


async def read_json_body(request: Request, limit: int) -> Any:
    """Read and parse a JSON body, refusing bodies over ``limit`` bytes before reading them."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body over the {limit}-byte limit", limit=limit)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body over the {limit}-byte limit", limit=limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body:
        raise BadRequest("empty request body; send a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON body: {exc}") from None


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

"""Turning what a ``/virtual`` client sent as ``tool_input`` into an argument dict.

Names, aliases, coercion and validation belong to the API's parameter model
(:class:`toolsim.catalog.parameters.Signature`); this module only parses.
"""

from __future__ import annotations

import ast
import json
from typing import Any

import orjson

from toolsim.errors import InvalidArguments
from toolsim.server.requests import loads

#: Characters of unparsable ``tool_input`` quoted back in the error message.
SHOWN_INPUT = 80


def _shown(raw: str) -> str:
    text = raw if len(raw) <= SHOWN_INPUT else raw[: SHOWN_INPUT - 3] + "..."
    return repr(text)


def parse_tool_input(raw: Any) -> dict[str, Any]:
    """Parse ``tool_input`` (a JSON string, an object, or ``""``) into an argument dict.

    Clients built on Python sometimes send ``repr()`` of a dict rather than JSON;
    that is accepted through ``ast.literal_eval`` (never ``eval``). Anything else
    is the tool call's problem, not the request's: :class:`InvalidArguments`, with
    the offending text cut short, which ``/virtual`` answers with HTTP 200 so the
    agent reads why.
    """
    if raw is None or raw == "":
        return {}
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        try:
            value = loads(raw)
        except orjson.JSONDecodeError as exc:
            try:
                # Through JSON, so a literal holds only what a JSON body could
                # (no sets, bytes or tuple keys).
                value = loads(json.dumps(ast.literal_eval(raw.strip())))
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                raise InvalidArguments(
                    f"tool_input is not valid JSON ({exc}): {_shown(raw)}; "
                    "send a JSON object of arguments"
                ) from None
        if value is None or value == "":
            return {}
        if isinstance(value, dict):
            return value
        raise InvalidArguments(
            f"tool_input must be a JSON object of arguments, got {type(value).__name__} "
            f"{_shown(raw)}"
        )
    raise InvalidArguments(
        f"tool_input must be a JSON object of arguments (or a string holding one), "
        f"got {type(raw).__name__} {_shown(json.dumps(raw, default=str))}"
    )

"""Turning what a client sent into arguments, and checking them against the API's docs.

A real API rejects a call that lacks a required parameter or sends a number
where it wants one; the virtual API must do the same before any simulation,
with an error message an agent can act on.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

import orjson

from toolsim.cache.keys import coerce_boolean, coerce_number
from toolsim.catalog.models import ApiSpec, ParamType
from toolsim.errors import BadRequest, InvalidArguments

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INTEGER = re.compile(r"\s*[+-]?\d+\s*")


def parse_tool_input(raw: Any) -> dict[str, Any]:
    """Parse ``tool_input`` (a JSON string, an object, or ``""``) into an argument dict.

    Clients built on Python sometimes send ``repr()`` of a dict rather than JSON;
    that is accepted through ``ast.literal_eval`` (never ``eval``).
    """
    if raw is None or raw == "":
        return {}
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            try:
                # Through JSON, so a literal holds only what a JSON body could
                # (no sets, bytes or tuple keys; big integers become floats).
                value = orjson.loads(json.dumps(ast.literal_eval(raw.strip())))
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                raise BadRequest(
                    "tool_input is not valid JSON; send a JSON object of arguments"
                ) from None
        if value is None or value == "":
            return {}
        if isinstance(value, dict):
            return value
    raise BadRequest("tool_input must be a JSON object of arguments (or a string holding one)")


def argument_problems(api: ApiSpec, arguments: dict[str, Any]) -> list[str]:
    """Every way the arguments break the API's documentation (empty when they are fine).

    Checks are deliberately lenient: only what a real API would certainly reject
    (a missing required parameter, a value that is not a number or boolean where
    one is documented, a malformed date) is reported.
    """
    problems = []
    for param in api.required:
        if param.name not in arguments or arguments[param.name] is None:
            problems.append(
                f"missing required parameter '{param.name}' ({param.raw_type or 'STRING'})"
            )
    for name, value in arguments.items():
        param = api.parameter(name)
        if param is None or value is None or value == "":
            continue
        if param.type is ParamType.NUMBER and not _is_number(coerce_number(value)):
            problems.append(f"parameter '{name}' must be a number, got {value!r}")
        elif param.type is ParamType.BOOLEAN and not _is_boolean(coerce_boolean(value)):
            problems.append(f"parameter '{name}' must be true or false, got {value!r}")
        elif param.type is ParamType.DATE and not (
            isinstance(value, str) and _DATE.fullmatch(value.strip())
        ):
            problems.append(f"parameter '{name}' must be a date YYYY-MM-DD, got {value!r}")
    return problems


def _is_number(value: Any) -> bool:
    if isinstance(value, str):
        # Integers beyond 64 bits stay text after coercion, yet are numbers.
        return _INTEGER.fullmatch(value) is not None
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_boolean(value: Any) -> bool:
    # 0/1 (also as text, as in query strings) are what many real APIs accept for flags.
    return isinstance(value, bool) or value in (0, 1, "0", "1")


def check_arguments(api: ApiSpec, arguments: dict[str, Any]) -> None:
    """Raise :class:`InvalidArguments` listing every problem, as a real API would reject."""
    problems = argument_problems(api, arguments)
    if problems:
        raise InvalidArguments(
            f"{api.name}: " + "; ".join(problems), problems=problems, function=api.function_name
        )

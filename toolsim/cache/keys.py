"""Cache keys: sha256 of the canonical JSON of (category, tool, API, arguments).

Arguments are normalised first so that the same call always finds the same
entry: key order never matters, and a value is coerced to its documented type
where the intent is unambiguous ("5" for a NUMBER is 5, "true" for a BOOLEAN is
True). Anything ambiguous is left exactly as sent.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

import orjson

from toolsim.catalog.models import ApiSpec, ParamType

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
# orjson refuses integers outside 64 bits; coercion never creates one.
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _fits_int64(number: float) -> bool:
    return _INT64_MIN <= number <= _INT64_MAX


def _as_number(number: float) -> int | float:
    return int(number) if number.is_integer() and _fits_int64(number) else number


def coerce_number(value: Any) -> Any:
    """Return ``value`` as an int or float when it unambiguously is one, else unchanged."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return _as_number(value) if math.isfinite(value) else value
    if isinstance(value, str):
        text = value.strip()
        if _INT.fullmatch(text):
            number = int(text)
            return number if _fits_int64(number) else value
        if _FLOAT.fullmatch(text):
            number = float(text)
            if math.isfinite(number):
                return _as_number(number)
    return value


def coerce_boolean(value: Any) -> Any:
    """Return ``value`` as a bool when it is ``true``/``false`` in any case, else unchanged."""
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
    return value


def normalize_arguments(api: ApiSpec, arguments: dict[str, Any]) -> dict[str, Any]:
    """Coerce documented parameters to their type where unambiguous; sort keys."""
    normalized: dict[str, Any] = {}
    for name in sorted(arguments):
        value = arguments[name]
        param = api.parameter(name)
        if param is not None:
            if param.type is ParamType.NUMBER:
                value = coerce_number(value)
            elif param.type is ParamType.BOOLEAN:
                value = coerce_boolean(value)
            elif (
                param.type is ParamType.STRING
                and isinstance(value, int | float)
                and not (isinstance(value, bool))
            ):
                value = str(value)
        normalized[name] = value
    return normalized


def canonical_json(value: Any) -> bytes:
    """Compact JSON with sorted keys at every level: equal values give equal bytes."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except TypeError:
        # Integers over 64 bits or lone surrogates (e.g. from a repr()-style
        # tool_input) that orjson refuses: the slow path, still deterministic.
        return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def cache_key(api: ApiSpec, normalized_arguments: dict[str, Any]) -> str:
    """The sha256 hex key of a call, from the API's identity and normalised arguments."""
    payload = [api.category_folder, api.tool_key, api.api_key, normalized_arguments]
    return hashlib.sha256(canonical_json(payload)).hexdigest()

"""Cache keys: sha256 of the canonical JSON of (category, tool, API, arguments).

Arguments are normalised first so that the same call always finds the same
entry: key order never matters, either spelling of a parameter (documented or
StableToolBench's) is the documented one, and a value is coerced to its
documented type where the intent is unambiguous ("5" for a NUMBER is 5, "true"
for a BOOLEAN is True). Anything ambiguous is left exactly as sent.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson

from toolsim.catalog.models import ApiSpec
from toolsim.errors import BadRequest


def normalize_arguments(api: ApiSpec, arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments a key is computed from: documented names, coerced, keys sorted.

    The API's :class:`~toolsim.catalog.parameters.Signature` does the work, so a
    key and the server's validation always agree on names and types.
    """
    return api.signature.canonical(arguments)


#: The most levels of nesting in arguments, the arguments object itself counted (a key's
#: payload wraps them in one more list; orjson writes 254 levels at most).
MAX_DEPTH = 253


def too_deep() -> BadRequest:
    """The error for arguments nested deeper than :data:`MAX_DEPTH` levels."""
    return BadRequest(f"the arguments are nested deeper than {MAX_DEPTH} levels")


def canonical_json(value: Any) -> bytes:
    """Compact JSON with sorted keys at every level: equal values give equal bytes.

    Raises :class:`~toolsim.errors.BadRequest` for a value nested deeper than
    :data:`MAX_DEPTH` levels (the standard library would exhaust Python's stack).
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except TypeError as exc:
        if str(exc) == "Recursion limit reached":
            raise too_deep() from None
        # Integers over 64 bits or lone surrogates (e.g. from a repr()-style
        # tool_input) that orjson refuses: the slow path, still deterministic.
        return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def cache_key(api: ApiSpec, normalized_arguments: dict[str, Any]) -> str:
    """The sha256 hex key of a call, from the API's identity and normalised arguments."""
    payload = [api.category_folder, api.tool_key, api.api_key, normalized_arguments]
    return hashlib.sha256(canonical_json(payload)).hexdigest()

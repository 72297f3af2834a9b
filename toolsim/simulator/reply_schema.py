"""JSON schemas of a reply, for constrained decoding, and checking a model's output.

The schema follows the API's response template where one is documented, so a
constrained model must produce the documented fields with the documented
types; a template too large or deep for a grammar falls back to "any JSON".
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from toolsim.cache.entry import Reply
from toolsim.errors import UpstreamError

#: Templates nested deeper than this are left unconstrained below that depth.
MAX_DEPTH = 5
#: A schema larger than this (as JSON) is replaced by "any JSON" to keep grammars small.
MAX_SCHEMA_CHARS = 6000
#: Longest list the model may produce inside a reply.
MAX_ITEMS = 10
#: Longest string field, error message and plain-text response. Small models fall into
#: repetition loops inside strings; a bound lets the grammar close the string, where the
#: token limit would cut the reply into invalid JSON (and every retry would loop again).
MAX_STRING = 500
MAX_ERROR = 300
MAX_TEXT = 2000

_SCALARS = {
    "str": {"type": "string", "maxLength": MAX_STRING},
    "string": {"type": "string", "maxLength": MAX_STRING},
    "int": {"type": "integer"},
    "integer": {"type": "integer"},
    "float": {"type": "number"},
    "number": {"type": "number"},
    "bool": {"type": "boolean"},
    "boolean": {"type": "boolean"},
    "nonetype": {"type": "null"},
    "null": {"type": "null"},
}
_LIST_OF = re.compile(r"list of (\w+) with length \d+", re.IGNORECASE)


def template_schema(template: Any, depth: int = 0, max_items: int = MAX_ITEMS) -> dict[str, Any]:
    """The JSON schema a StableToolBench response template describes (lists: ``max_items``)."""
    if depth >= MAX_DEPTH:
        return {}
    if isinstance(template, dict):
        fields = {k: v for k, v in template.items() if k != "_list_length"}
        return {
            "type": "object",
            "properties": {k: template_schema(v, depth + 1, max_items) for k, v in fields.items()},
            "required": list(fields),
        }
    if isinstance(template, list):
        if not template:
            return {"type": "array", "maxItems": max_items}
        first = template[0]
        if isinstance(first, str) and (match := _LIST_OF.fullmatch(first.strip())):
            item = _SCALARS.get(match.group(1).lower(), {})
        else:
            item = template_schema(first, depth + 1, max_items)
        return {"type": "array", "items": item, "maxItems": max_items}
    if isinstance(template, str):
        return dict(_SCALARS.get(template.strip().lower(), {}))
    return {}


def reply_schema(template: Any, max_items: int = MAX_ITEMS) -> dict[str, Any]:
    """The schema of a whole reply: ``{"error": str, "response": <template or a message>}``."""
    response: dict[str, Any] = {}
    if template is not None and not isinstance(template, str):
        shaped = template_schema(template, max_items=max_items)
        if shaped and len(orjson.dumps(shaped)) <= MAX_SCHEMA_CHARS:
            # A string stays allowed: it is how an API answers an invalid request.
            response = {"anyOf": [shaped, {"type": "string", "maxLength": MAX_TEXT}]}
    return {
        "type": "object",
        "properties": {
            "error": {"type": "string", "maxLength": MAX_ERROR},
            "response": response,
        },
        "required": ["error", "response"],
        "additionalProperties": False,
    }


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


def parse_reply(text: str | None) -> Reply:
    """Read a model's output as a reply; raise :class:`UpstreamError` when it is not one."""
    if not text or not text.strip():
        raise UpstreamError("the model returned an empty reply")
    cleaned = _FENCE.sub("", text.strip())
    try:
        value = orjson.loads(cleaned)
    except orjson.JSONDecodeError as exc:
        raise UpstreamError(f"the model's reply is not JSON ({exc}): {text[:200]!r}") from None
    if not isinstance(value, dict) or "error" not in value or "response" not in value:
        raise UpstreamError(
            f"the model's reply is not an object with 'error' and 'response': {text[:200]!r}"
        )
    error = value["error"]
    if error is None:
        error = ""
    if not isinstance(error, str):
        raise UpstreamError(f"the model's 'error' is not a string: {error!r}"[:300])
    return Reply(error=error, response=value["response"])

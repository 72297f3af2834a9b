"""JSON schemas of a reply, for constrained decoding, and checking a model's output.

The schema follows the API's response template where one is documented, so a
constrained model must produce the documented fields with the documented
types; a template too large or deep for a grammar falls back to "any JSON".
"""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import re
from typing import Any

import orjson

from toolsim.cache.entry import Reply
from toolsim.errors import UpstreamError
from toolsim.simulator.template_filler import _LIST_OF, fill_type_names, is_type_name
from toolsim.simulator.texts import parse_truncated_json

#: Templates nested deeper than this are left unconstrained below that depth.
MAX_CONSTRAINED_DEPTH = 5
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

_SCALARS: dict[str, dict[str, Any]] = {
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


def template_schema(template: Any, depth: int = 0, max_items: int = MAX_ITEMS) -> dict[str, Any]:
    """The JSON schema a StableToolBench response template describes (lists: ``max_items``)."""
    if depth >= MAX_CONSTRAINED_DEPTH:
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
        if isinstance(first, str) and (match := _LIST_OF.match(first.strip())):
            item = _SCALARS.get(match.group(1).lower(), {})
        else:
            item = template_schema(first, depth + 1, max_items)
        return {"type": "array", "items": item, "maxItems": max_items}
    if isinstance(template, str):
        return dict(_SCALARS.get(template.strip().lower(), {}))
    return {}


def reply_schema(
    template: Any, max_items: int = MAX_ITEMS, *, errors: bool = True
) -> dict[str, Any]:
    """The schema of a whole reply: ``{"error": str, "response": <template or a message>}``.

    Without ``errors`` (a call already validated against the documentation, answered by
    a model too small to judge it) the error must be empty and the response data.
    """
    response: dict[str, Any] = {}
    if template is not None and not isinstance(template, str):
        shaped = template_schema(template, max_items=max_items)
        if shaped and len(orjson.dumps(shaped)) <= MAX_SCHEMA_CHARS:
            # A string stays allowed: it is how an API answers an invalid request.
            text = {"type": "string", "maxLength": MAX_TEXT}
            response = {"anyOf": [shaped, text]} if errors else shaped
    return {
        "type": "object",
        "properties": {
            "error": {"type": "string", "maxLength": MAX_ERROR if errors else 0},
            "response": response,
        },
        "required": ["error", "response"],
        "additionalProperties": False,
    }


log = logging.getLogger("toolsim.simulator")

_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")

#: Fields whose values may legitimately be a type's name (schemas, metadata).
_TYPE_FIELDS = re.compile(r"type$|kind$|format$|datatype|schema", re.IGNORECASE)


def type_name_value(value: Any, path: str = "response", depth: int = 0) -> str | None:
    """The path of the first string value that is a type's name, or None."""
    if depth > 20:
        return None
    if isinstance(value, str):
        return path if is_type_name(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if not _TYPE_FIELDS.search(str(key)):
                found = type_name_value(item, f"{path}.{key}", depth + 1)
                if found:
                    return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = type_name_value(item, f"{path}[{index}]", depth + 1)
            if found:
                return found
    return None


def first_json_object(text: str) -> Any:
    """The first JSON object in free text, repaired where it can be; ValueError if none.

    Tries each ``{`` in turn: strict JSON, then without trailing commas, then a
    Python literal (single quotes, True/None), then a reply cut off by the token
    limit (closed after its last complete value).
    """
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        tail = text[start:]
        try:
            return decoder.raw_decode(tail)[0]
        except ValueError:
            pass
        repaired = _TRAILING_COMMA.sub(r"\1", tail)
        try:
            return decoder.raw_decode(repaired)[0]
        except ValueError:
            pass
        literal = _python_literal(tail)
        if isinstance(literal, dict):
            return literal
        parsed = parse_truncated_json(repaired)
        if isinstance(parsed, dict):
            return parsed
        start = text.find("{", start + 1)
    raise ValueError("no JSON object in the text")


def _python_literal(text: str) -> Any:
    """The balanced ``{...}`` at the start of ``text`` as a Python literal, or None."""
    depth = 0
    quote = ""
    for end, char in enumerate(text):
        if quote:
            if char == quote and text[end - 1] != "\\":
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                try:
                    return ast.literal_eval(text[: end + 1])
                except (ValueError, SyntaxError, MemoryError, RecursionError):
                    return None
    return None


def parse_reply(
    text: str | None, *, lenient: bool = False, last: bool = False, errors: bool = True
) -> Reply:
    """Read a model's output as a reply; raise :class:`UpstreamError` when it is not one.

    Strict (the default) wants exactly one JSON object ``{"error", "response"}``.
    ``lenient`` (fine-tuned simulators that answer in their own format, such as
    MirrorAPI) takes the first JSON object in the text, repaired if it can be, and an
    object without those two keys as the response itself. Either way a reply whose
    data holds a type's name as a value (``"str"``) is rejected, so it is sampled again;
    on the ``last`` attempt such values are replaced by plausible ones instead (drawn
    like the schema simulator's, seeded by the text), so a small model that keeps
    copying its template still answers, and no type name ever reaches an agent. A
    reply with both an error and data is sampled again too (kept on the last attempt).
    Without ``errors`` (the call was valid) a reply with an error is sampled again; on
    the last attempt its data is kept without the error, and with no data it fails.
    """
    if not text or not text.strip():
        raise UpstreamError("the model returned an empty reply")
    cleaned = _FENCE.sub("", text.strip())
    try:
        value = orjson.loads(cleaned)
    except orjson.JSONDecodeError as exc:
        if not lenient:
            raise UpstreamError(f"the model's reply is not JSON ({exc}): {text[:200]!r}") from None
        try:
            value = first_json_object(cleaned)
        except ValueError:
            raise UpstreamError(f"no JSON object in the model's reply: {text[:200]!r}") from None
    if lenient and isinstance(value, dict) and not ({"error", "response"} & set(value)):
        value = {"error": "", "response": value}
    if not isinstance(value, dict) or "error" not in value or "response" not in value:
        raise UpstreamError(
            f"the model's reply is not an object with 'error' and 'response': {text[:200]!r}"
        )
    error = value["error"]
    if error is None:
        error = ""
    if not isinstance(error, str):
        raise UpstreamError(f"the model's 'error' is not a string: {error!r}"[:300])
    response = value["response"]
    has_data = response not in ("", None, [], {}) and not isinstance(response, str)
    if error and not errors:
        if not (last and has_data):
            raise UpstreamError(f"the model wrote an error for a valid call: {error[:120]!r}")
        error = ""
    if error and has_data and not last:
        # An invalid call has no data; a model that writes both is unsure which it means.
        raise UpstreamError(f"the model's reply has both an error ({error[:80]!r}) and data")
    if not error:
        where = type_name_value(value["response"])
        if where is not None and last:
            seed = int.from_bytes(hashlib.sha256(cleaned.encode()).digest()[:8], "big")
            filled = fill_type_names(value["response"], seed)
            log.info("type names in the model's reply (first at %s) replaced by values", where)
            return Reply(error=error, response=filled)
        if where is not None:
            raise UpstreamError(f"the model wrote a type name instead of a value at {where}")
    return Reply(error=error, response=value["response"])

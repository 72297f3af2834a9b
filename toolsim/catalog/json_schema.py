"""JSON schemas (OpenAPI's and MCP's) as toolsim parameters and response templates.

OpenAPI documents and MCP servers describe inputs and outputs with JSON
schemas, already dereferenced when they arrive here (a recursive schema is a
cyclic Python structure, so every walk is depth-limited). Parameters keep their
schema, cleaned of vendor and XML keys, to show agents exactly what the source
documents; replies get a template in ToolBench's convention (leaves naming a
type, lists holding one item), which every simulator already reads.
"""

from __future__ import annotations

from typing import Any

import jsonref

from toolsim.catalog.models import Parameter, ParamType

#: Schema levels kept when a schema is shown or turned into a template (recursion stops here).
MAX_DEPTH = 6

#: Keys of a schema an agent needs to call the API right; the rest (xml, x-*, ...) is dropped.
_SHOWN_KEYS = frozenset(
    {
        "type",
        "format",
        "description",
        "enum",
        "const",
        "default",
        "items",
        "properties",
        "required",
        "additionalProperties",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "uniqueItems",
        "oneOf",
        "anyOf",
        "allOf",
        "nullable",
        "title",
    }
)
_TEMPLATE_TYPES = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "null": "NoneType",
}


def resolved(schema: Any) -> Any:
    """``schema`` with its local ``$ref`` s (``#/$defs/...``) replaced by what they name.

    A reference that cannot be resolved is left as it is (the schema is still shown).
    """
    if not isinstance(schema, dict):
        return schema
    try:
        return jsonref.replace_refs(schema, proxies=False, lazy_load=False)
    except jsonref.JsonRefError:
        return schema


def schema_type(schema: Any) -> str:
    """The JSON type a schema describes (its first, for a list of types; "" if unsaid)."""
    if not isinstance(schema, dict):
        return ""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else "")
    if kind:
        return str(kind)
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    for key in ("allOf", "oneOf", "anyOf"):
        parts = schema.get(key)
        if isinstance(parts, list) and parts:
            return schema_type(parts[0])
    return ""


def param_type(schema: Any) -> ParamType:
    """The :class:`ParamType` of a value described by ``schema``."""
    kind = schema_type(schema)
    form = str(schema.get("format") or "") if isinstance(schema, dict) else ""
    if kind in ("integer", "number"):
        return ParamType.NUMBER
    if kind == "boolean":
        return ParamType.BOOLEAN
    if kind == "array":
        return ParamType.ARRAY
    if kind == "object":
        return ParamType.OBJECT
    if form == "date":
        return ParamType.DATE
    if form == "binary":
        return ParamType.BINARY
    if isinstance(schema, dict) and schema.get("enum"):
        return ParamType.ENUM
    return ParamType.STRING


def shown_schema(schema: Any, depth: int = 0) -> dict[str, Any]:
    """``schema`` with only the keys an agent needs, cut at :data:`MAX_DEPTH` levels."""
    if not isinstance(schema, dict):
        return {}
    if depth >= MAX_DEPTH:
        kind = schema_type(schema)
        return {"type": kind} if kind else {}
    shown: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in _SHOWN_KEYS:
            continue
        if key == "properties" and isinstance(value, dict):
            shown[key] = {str(n): shown_schema(s, depth + 1) for n, s in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            shown[key] = shown_schema(value, depth + 1)
        elif key in ("oneOf", "anyOf", "allOf") and isinstance(value, list):
            shown[key] = [shown_schema(part, depth + 1) for part in value]
        else:
            shown[key] = value
    return shown


def parameter(
    name: str,
    schema: Any,
    *,
    required: bool = False,
    description: str = "",
    location: str = "",
) -> Parameter:
    """The :class:`Parameter` a named value described by ``schema`` is."""
    schema = schema if isinstance(schema, dict) else {}
    kind = schema_type(schema)
    enum = schema.get("enum")
    return Parameter(
        name=name,
        type=param_type(schema),
        description=description or str(schema.get("description") or ""),
        default=schema.get("default"),
        required=required,
        raw_type=str(schema.get("format") or kind or "string"),
        enum=tuple(enum) if isinstance(enum, list) else (),
        schema=shown_schema(schema),
        location=location,
    )


def object_parameters(schema: Any, *, location: str = "") -> list[Parameter]:
    """One parameter per property of an object schema, required as the schema says."""
    if not isinstance(schema, dict):
        return []
    merged = _merged(schema)
    required = set(merged.get("required") or ())
    properties = merged.get("properties") or {}
    return [
        parameter(str(name), sub, required=name in required, location=location)
        for name, sub in properties.items()
    ]


def template(schema: Any, depth: int = 0) -> Any:
    """A ToolBench-style response template for ``schema`` (``{"id": "int", "tags": ["str"]}``)."""
    if not isinstance(schema, dict) or depth >= MAX_DEPTH:
        return "str" if depth < MAX_DEPTH else "..."
    schema = _merged(schema)
    kind = schema_type(schema)
    if kind == "object":
        properties = schema.get("properties") or {}
        if properties:
            return {str(name): template(sub, depth + 1) for name, sub in properties.items()}
        extra = schema.get("additionalProperties")
        return {"key": template(extra, depth + 1)} if isinstance(extra, dict) else {}
    if kind == "array":
        return [template(schema.get("items"), depth + 1)]
    return _TEMPLATE_TYPES.get(kind, "str")


def _merged(schema: dict[str, Any]) -> dict[str, Any]:
    """An ``allOf`` schema folded into one (properties and required lists joined)."""
    parts = schema.get("allOf")
    if not isinstance(parts, list):
        return schema
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    properties: dict[str, Any] = dict(merged.get("properties") or {})
    required: list[Any] = list(merged.get("required") or [])
    for part in parts:
        if isinstance(part, dict):
            part = _merged(part)
            properties.update(part.get("properties") or {})
            required += list(part.get("required") or [])
            merged.setdefault("type", part.get("type"))
    if properties:
        merged["properties"] = properties
        merged.setdefault("type", "object")
    if required:
        merged["required"] = required
    return merged

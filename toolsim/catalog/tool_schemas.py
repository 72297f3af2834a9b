"""OpenAI ``tools`` schemas for any set of APIs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from toolsim.catalog.models import ApiSpec, Parameter, ParamType
from toolsim.catalog.parameters import ParamNames

#: Descriptions longer than this are cut: function lists are sent on every step.
MAX_DESCRIPTION = 1024


def _param_schema(param: Parameter) -> dict[str, Any]:
    if param.schema:
        # The source's own JSON schema (OpenAPI, MCP): it says more than a type name can.
        documented = dict(param.schema)
        if param.description:
            documented["description"] = param.description
        return documented
    schema: dict[str, Any] = {"type": param.type.json_type}
    if param.description:
        schema["description"] = param.description
    if param.type is ParamType.DATE:
        schema["format"] = "date"
    if param.default not in (None, ""):
        schema["example_value"] = param.default
    return schema


def function_description(api: ApiSpec) -> str:
    """A description naming the tool, the API and what the API does."""
    parts = [f'API "{api.name}" of tool "{api.tool_name}".']
    if api.description:
        parts.append(api.description.strip())
    if api.tool_description:
        parts.append(f"About the tool: {api.tool_description.strip()}")
    return " ".join(parts)[:MAX_DESCRIPTION]


def function_schema(
    api: ApiSpec, param_names: ParamNames | str = ParamNames.DOCUMENTED
) -> dict[str, Any]:
    """The OpenAI function definition (name, description, JSON-schema parameters) of an API.

    ``param_names="stb"`` names the parameters as StableToolBench's client showed
    them to its agents (see :meth:`~toolsim.catalog.parameters.Signature.presented`).
    """
    shown = api.signature.presented(param_names)
    return {
        "name": api.function_name,
        "description": function_description(api),
        "parameters": {
            "type": "object",
            "properties": {name: _param_schema(p) for name, p in shown},
            "required": [name for name, p in shown if p.required],
        },
    }


def openai_tools(
    apis: Iterable[ApiSpec], param_names: ParamNames | str = ParamNames.DOCUMENTED
) -> list[dict[str, Any]]:
    """The ``tools`` list of a chat-completions request offering these APIs."""
    return [{"type": "function", "function": function_schema(api, param_names)} for api in apis]

"""An MCP server's tools (its ``tools/list`` result) as a tool.

Listing a live server is I/O and happens at the edge (see
:mod:`toolsim.simulator.upstream.mcp`); this module only turns what was listed,
in the protocol's own wire shape, into a :class:`~toolsim.catalog.models.ToolSpec`:
the server's name is the tool, each MCP tool an API whose parameters come from
its ``inputSchema`` and whose reply template from its ``outputSchema`` (when given).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from toolsim.catalog.json_schema import object_parameters, resolved, template
from toolsim.catalog.models import ApiSpec, McpTool, ToolSpec

#: The category every MCP tool is filed under.
CATEGORY = "MCP"
#: How a ``--tools`` entry names an MCP server: ``mcp:<http(s) URL>`` or ``mcp:<command>``.
PREFIX = "mcp:"


def is_mcp_source(source: object) -> bool:
    """Whether a ``--tools`` entry names an MCP server."""
    return isinstance(source, str) and source.startswith(PREFIX)


@dataclass(frozen=True, slots=True)
class ListedServer:
    """What an MCP server said about itself and its tools (the edge's listing).

    ``tools`` are ``tools/list`` entries as sent on the wire (``inputSchema``, ...).
    """

    source: str
    name: str
    instructions: str = ""
    tools: tuple[dict[str, Any], ...] = field(default=())


def tool_from_mcp(listed: ListedServer) -> ToolSpec:
    """The tool an MCP server's listing describes."""
    apis = tuple(_api(listed, raw) for raw in listed.tools if raw.get("name"))
    return ToolSpec(category=CATEGORY, name=listed.name, description=listed.instructions, apis=apis)


def _api(listed: ListedServer, raw: dict[str, Any]) -> ApiSpec:
    name = str(raw["name"])
    output = resolved(raw.get("outputSchema"))
    return ApiSpec(
        category=CATEGORY,
        tool_name=listed.name,
        name=name,
        description=str(raw.get("description") or raw.get("title") or ""),
        method="POST",
        parameters=tuple(object_parameters(resolved(raw.get("inputSchema")))),
        template_response=template(output) if isinstance(output, dict) else None,
        tool_description=listed.instructions,
        origin=McpTool(server=listed.source, tool=name),
    )

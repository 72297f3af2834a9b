"""Readers for the formats tool definitions arrive in.

* ToolBench/StableToolBench tool folders: ``<Category>/<tool>.json`` with
  ``tool_name``, ``tool_description`` and ``api_list``.
* StableToolBench query files: a JSON list of queries, each with an ``api_list``
  that fully defines the APIs it may use.
* The example suite bundled with toolsim (both of the above, see ``examples/``).
* OpenAPI 3.x documents, JSON or YAML, files or URLs (:mod:`toolsim.catalog.openapi`).
* MCP servers (``mcp:<URL or command>``), listed beforehand at the edge and handed
  over as :class:`~toolsim.catalog.mcp.ListedServer` (:mod:`toolsim.catalog.mcp`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from toolsim.catalog.mcp import ListedServer, is_mcp_source, tool_from_mcp
from toolsim.catalog.models import ApiSpec, Parameter, ParamType, Query, ToolSpec
from toolsim.catalog.openapi import is_openapi, is_url, read_document, tool_from_openapi
from toolsim.errors import UserError
from toolsim.files import read_json

EXAMPLE_SUITE = "example"


def example_suite_dir() -> Path:
    """The folder of the bundled example suite (tools/ and queries.json)."""
    return Path(str(resources.files("toolsim.catalog") / "examples"))


def _parse_template(raw: Any) -> Any:
    # Some definitions carry the template as JSON text; decode it when we can.
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _parameters(raw: dict[str, Any]) -> tuple[Parameter, ...]:
    params = []
    for required, key in ((True, "required_parameters"), (False, "optional_parameters")):
        for item in raw.get(key) or []:
            if not isinstance(item, dict) or not item.get("name"):
                continue
            params.append(
                Parameter(
                    name=str(item["name"]),
                    type=ParamType.parse(item.get("type")),
                    description=str(item.get("description") or ""),
                    default=item.get("default"),
                    required=required,
                    raw_type=str(item.get("type") or ""),
                )
            )
    return tuple(params)


def api_from_dict(
    raw: dict[str, Any], *, category: str, tool_name: str, tool_description: str = ""
) -> ApiSpec:
    """Build an :class:`ApiSpec` from a tool file's or a query's ``api_list`` entry."""
    name = raw.get("api_name", raw.get("name"))
    if not name:
        raise UserError(f"an API of tool {tool_name!r} has no name")
    return ApiSpec(
        category=category,
        tool_name=tool_name,
        name=str(name),
        description=str(raw.get("api_description", raw.get("description")) or ""),
        method=str(raw.get("method") or "GET").upper(),
        parameters=_parameters(raw),
        template_response=_parse_template(raw.get("template_response")),
        tool_description=tool_description,
    )


def tool_from_dict(raw: dict[str, Any], *, category: str) -> ToolSpec:
    """Build a :class:`ToolSpec` from one ToolBench tool definition file's content."""
    name = raw.get("tool_name") or raw.get("name")
    if not name:
        raise UserError("tool definition has no tool_name")
    description = str(raw.get("tool_description") or raw.get("description") or "")
    apis = tuple(
        api_from_dict(api, category=category, tool_name=str(name), tool_description=description)
        for api in raw.get("api_list") or []
        if isinstance(api, dict)
    )
    return ToolSpec(category=category, name=str(name), description=description, apis=apis)


def load_tool_folder(root: Path) -> Iterator[ToolSpec]:
    """Yield every tool of a ``<Category>/<tool>.json`` folder."""
    for category_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(category_dir.glob("*.json")):
            raw = read_json(path, "tool definition")
            if isinstance(raw, dict) and "api_list" in raw:
                yield tool_from_dict(raw, category=category_dir.name)


def queries_from_list(raw: list[Any], *, group: str) -> Iterator[Query]:
    """Yield the queries of a parsed StableToolBench query file."""
    for item in raw:
        if not isinstance(item, dict) or "api_list" not in item:
            continue
        apis = tuple(
            api_from_dict(
                api,
                category=str(api.get("category_name") or ""),
                tool_name=str(api.get("tool_name") or ""),
            )
            for api in item["api_list"]
            if isinstance(api, dict)
        )
        relevant = tuple(
            (str(pair[0]), str(pair[1]))
            for pair in item.get("relevant APIs") or []
            if isinstance(pair, list | tuple) and len(pair) == 2
        )
        yield Query(
            query_id=str(item.get("query_id")),
            text=str(item.get("query") or ""),
            apis=apis,
            relevant=relevant,
            group=group,
        )


def load_query_file(path: Path, *, group: str | None = None) -> list[Query]:
    """Read one query file; its group defaults to the file's stem (e.g. ``G1_instruction``)."""
    raw = read_json(path, "query file")
    if not isinstance(raw, list):
        raise UserError(f"{path} is not a query file (expected a JSON list of queries)")
    return list(queries_from_list(raw, group=group or path.stem))


def _looks_like_tool_folder(path: Path) -> bool:
    return any(child.is_dir() and any(child.glob("*.json")) for child in path.iterdir())


#: Suffixes of files read as OpenAPI documents (a ``.json`` file is one if it says so).
_YAML_SUFFIXES = (".yaml", ".yml")


def load_sources(
    paths: Iterable[Path | str], listed: Mapping[str, ListedServer] | None = None
) -> tuple[list[ToolSpec], list[Query]]:
    """Load tools and queries from files and folders of any supported format.

    A folder of category folders is read as a tool folder; a folder of ``.json``
    files as query files; a ``.json`` list as a query file; a ``.json`` object
    with ``api_list`` as one tool (its category taken from its parent folder); a
    ``.yaml`` file, a ``.json`` object with an ``openapi`` field or an http(s) URL
    as an OpenAPI document. The name ``example`` stands for the bundled example
    suite. ``mcp:...`` names an MCP server, whose listing ``listed`` must hold.
    """
    tools: list[ToolSpec] = []
    queries: list[Query] = []
    for entry in paths:
        if str(entry) == EXAMPLE_SUITE:
            suite = example_suite_dir()
            tools.extend(load_tool_folder(suite / "tools"))
            queries.extend(load_query_file(suite / "queries.json", group=EXAMPLE_SUITE))
            continue
        if is_mcp_source(entry):
            server = (listed or {}).get(str(entry))
            if server is None:
                raise UserError(f"the MCP server {entry} was not listed before loading")
            tools.append(tool_from_mcp(server))
            continue
        if is_url(str(entry)) or Path(entry).suffix.lower() in _YAML_SUFFIXES:
            tools.append(tool_from_openapi(read_document(str(entry)), source=str(entry)))
            continue
        path = Path(entry)
        if not path.exists():
            raise UserError(f"no such file or folder: {path}")
        if path.is_dir():
            if _looks_like_tool_folder(path):
                tools.extend(load_tool_folder(path))
            else:
                for child in sorted(path.glob("*.json")):
                    queries.extend(load_query_file(child))
            continue
        raw = read_json(path, "tool or query file")
        if isinstance(raw, list):
            queries.extend(queries_from_list(raw, group=path.stem))
        elif isinstance(raw, dict) and "api_list" in raw:
            tools.append(tool_from_dict(raw, category=path.parent.name))
        elif is_openapi(raw):
            tools.append(tool_from_openapi(raw, source=str(path)))
        else:
            raise UserError(
                f"{path} is neither a query file, a tool definition nor an OpenAPI document"
            )
    return tools, queries

"""The catalog: every known API, indexed by the names clients use to call it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from toolsim.catalog.loaders import load_sources
from toolsim.catalog.mcp import ListedServer
from toolsim.catalog.models import ApiId, ApiSpec, Query, ToolSpec, api_id
from toolsim.catalog.names import (
    MAX_FUNCTION_NAME,
    category_folder,
    standardize,
    standardize_api,
    strip_tool_suffix,
)
from toolsim.errors import ToolNotFound

#: Bound on memoised name resolutions (a flood of bogus names must not grow memory).
_MAX_RESOLVED = 100_000


def _richer(old: ApiSpec, new: ApiSpec) -> ApiSpec:
    # The same API often appears in many queries and in a tool folder; keep the
    # most complete definition and fill gaps from the other.
    best = old
    if old.template_response is None and new.template_response is not None:
        best = replace(best, template_response=new.template_response)
    if not old.tool_description and new.tool_description:
        best = replace(best, tool_description=new.tool_description)
    if not old.description and new.description:
        best = replace(best, description=new.description)
    if not old.parameters and new.parameters:
        best = replace(best, parameters=new.parameters)
    return best


class Catalog:
    """All APIs and queries toolsim knows, with lookups by every client spelling."""

    def __init__(self, tools: Iterable[ToolSpec] = (), queries: Iterable[Query] = ()) -> None:
        self._apis: dict[ApiId, ApiSpec] = {}
        self._by_tool_api: dict[tuple[str, str], list[ApiId]] = defaultdict(list)
        self._by_function: dict[str, list[ApiId]] = defaultdict(list)
        self._tool_descriptions: dict[tuple[str, str], str] = {}
        self.queries: dict[tuple[str, str], Query] = {}
        self._resolved: dict[tuple[str, str, str], ApiSpec] = {}
        for tool in tools:
            self._tool_descriptions[(category_folder(tool.category), tool.tool_key)] = (
                tool.description
            )
            for api in tool.apis:
                self.add(api)
        for query in queries:
            self.queries[(query.group, query.query_id)] = query
            for api in query.apis:
                self.add(api)

    @classmethod
    def from_paths(
        cls, paths: Sequence[Path | str], listed: Mapping[str, ListedServer] | None = None
    ) -> Catalog:
        """Load a catalog from tool folders, query files, OpenAPI documents, ``example``,
        and MCP servers (``mcp:...``, whose listings ``listed`` holds)."""
        tools, queries = load_sources(paths, listed)
        return cls(tools, queries)

    def add(self, api: ApiSpec) -> None:
        """Add an API, merging with an existing definition of the same API."""
        key = api_id(api)
        if not api.tool_description:
            described = self._tool_descriptions.get(key[:2])
            if described:
                api = replace(api, tool_description=described)
        self._resolved.clear()
        existing = self._apis.get(key)
        if existing is not None:
            self._apis[key] = _richer(existing, api)
            return
        self._apis[key] = api
        self._by_tool_api[key[1:]].append(key)
        self._by_function[api.function_name].append(key)

    def __len__(self) -> int:
        return len(self._apis)

    def __iter__(self):  # noqa: D105
        return iter(self._apis.values())

    @property
    def groups(self) -> list[str]:
        """Names of the loaded query groups."""
        return sorted({group for group, _ in self.queries})

    def get(self, key: ApiId) -> ApiSpec:
        """Return the API with this identity."""
        try:
            return self._apis[key]
        except KeyError:
            raise ToolNotFound(f"unknown API {key!r}") from None

    def resolve(self, category: str, tool_name: str, api_name: str) -> ApiSpec:
        """Find the API a ``/virtual`` request means (memoised: clients repeat names)."""
        names = (category, tool_name, api_name)
        api = self._resolved.get(names)
        if api is None:
            api = self._resolve(*names)
            if len(self._resolved) >= _MAX_RESOLVED:
                self._resolved.clear()
            self._resolved[names] = api
        return api

    def _resolve(self, category: str, tool_name: str, api_name: str) -> ApiSpec:
        """Resolve names the slow way.

        Accepts raw or standardized names, and a full function name in
        ``api_name``; a wrong category is forgiven when the tool and API are
        unambiguous, because clients copy categories inconsistently.
        """
        tool_key = standardize(tool_name)
        api_key = standardize_api(strip_tool_suffix(api_name, tool_name))
        exact = self._apis.get((category_folder(category), tool_key, api_key))
        if exact is not None:
            return exact
        candidates = self._by_tool_api.get((tool_key, api_key), [])
        if len(candidates) == 1:
            return self._apis[candidates[0]]
        by_function = [k for k in self._by_function.get(api_name, []) if k[1] == tool_key]
        if len(by_function) == 1:
            return self._apis[by_function[0]]
        if not any(k[1] == tool_key for k in self._apis):
            raise ToolNotFound(f"unknown tool {tool_name!r}", category=category, tool=tool_name)
        if candidates:
            raise ToolNotFound(
                f"API {api_name!r} of tool {tool_name!r} exists in several categories; "
                f"say which one",
                categories=sorted(k[0] for k in candidates),
            )
        known = sorted(a.name for k, a in self._apis.items() if k[1] == tool_key)
        raise ToolNotFound(
            f"tool {tool_name!r} has no API {api_name!r}", tool=tool_name, known_apis=known[:50]
        )

    def by_function(self, name: str, *, within: Iterable[ApiSpec] | None = None) -> ApiSpec:
        """Find the API an agent means by a function name, optionally among a query's APIs."""
        keys = self._by_function.get(name[-MAX_FUNCTION_NAME:], [])
        if within is not None:
            allowed = {api_id(a) for a in within}
            keys = [k for k in keys if k in allowed]
        if len(keys) == 1:
            return self._apis[keys[0]]
        if not keys:
            raise ToolNotFound(f"unknown function {name!r}", function=name)
        raise ToolNotFound(
            f"function name {name!r} is ambiguous; scope it to a query or a tool",
            candidates=[list(k) for k in keys],
        )

    def query(self, group: str, query_id: str) -> Query:
        """Return a loaded query by its group (file stem) and id."""
        try:
            return self.queries[(group, str(query_id))]
        except KeyError:
            raise ToolNotFound(
                f"unknown query {query_id!r} in group {group!r}", groups=self.groups
            ) from None

    def tools_named(self, names: Iterable[str]) -> list[ApiSpec]:
        """All APIs of the tools with these (raw or standardized) names."""
        wanted = {standardize(n) for n in names}
        found = [api for key, api in self._apis.items() if key[1] in wanted]
        missing = wanted - {api.tool_key for api in found}
        if missing:
            raise ToolNotFound(f"unknown tools: {', '.join(sorted(missing))}")
        return found

"""The canonical tool model: a tool, its APIs, their parameters and response templates.

Every source format (ToolBench tool folders, StableToolBench query files, the
bundled example suite) is loaded into these frozen dataclasses, so the rest of
toolsim never sees the differences between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from toolsim.catalog.names import category_folder, function_name, standardize, standardize_api

if TYPE_CHECKING:
    from toolsim.catalog.parameters import Signature


class ParamType(StrEnum):
    """Documented parameter types, normalised from the many spellings in the wild."""

    STRING = "STRING"
    NUMBER = "NUMBER"
    BOOLEAN = "BOOLEAN"
    ENUM = "ENUM"
    DATE = "DATE"
    TIME = "TIME"
    ARRAY = "ARRAY"
    OBJECT = "OBJECT"
    BINARY = "BINARY"

    @classmethod
    def parse(cls, raw: object) -> ParamType:
        """Map a documented type such as ``"string"`` or ``"DATE (YYYY-MM-DD)"`` to a member.

        Unknown spellings are treated as strings, which is what the reference APIs
        accept on the wire (query strings).
        """
        text = str(raw or "").strip().upper()
        for member in cls:
            if text == member.value or text.startswith(member.value + " "):
                return member
        aliases = {
            "INTEGER": cls.NUMBER,
            "INT": cls.NUMBER,
            "FLOAT": cls.NUMBER,
            "BOOL": cls.BOOLEAN,
            "LIST": cls.ARRAY,
            "DICT": cls.OBJECT,
            "FILE": cls.BINARY,
        }
        return aliases.get(text, cls.STRING)

    @property
    def json_type(self) -> str:
        """The JSON-schema type agents are shown for this parameter."""
        return {
            ParamType.NUMBER: "number",
            ParamType.BOOLEAN: "boolean",
        }.get(self, "string")


@dataclass(frozen=True, slots=True)
class Parameter:
    """One documented parameter of an API."""

    name: str
    type: ParamType
    description: str = ""
    default: Any = None
    required: bool = False
    raw_type: str = ""
    #: The allowed values, when the source lists them (OpenAPI and MCP schemas do).
    enum: tuple[Any, ...] = ()
    #: The parameter's JSON schema as its source gave it (OpenAPI, MCP), shown to agents as is.
    schema: dict[str, Any] | None = None
    #: Where a real server expects it: ``path``, ``query``, ``header``, ``cookie`` or ``body``
    #: (OpenAPI operations only; "" elsewhere).
    location: str = ""


@dataclass(frozen=True, slots=True)
class HttpOperation:
    """An OpenAPI operation as its real server is called: method, path template, base URL.

    ``server`` is the spec's first server URL, resolved against where the spec was
    read from ("" when it names none); parameters say where each argument goes.
    ``body`` is the request body's media type ("" when the operation takes none), and
    ``whole_body`` names the one parameter holding the whole body when its schema is
    not an object whose properties became parameters.
    """

    method: str
    path: str
    server: str = ""
    body: str = ""
    whole_body: str = ""


@dataclass(frozen=True, slots=True)
class McpTool:
    """A tool of an MCP server: the server (as given to ``--tools``) and the tool's own name."""

    server: str
    tool: str


@dataclass(frozen=True)
class ApiSpec:
    """One API (endpoint) of a tool, with everything needed to validate and simulate it.

    Derived names are cached properties (not slots) because every call computes
    a cache key from them.
    """

    category: str
    tool_name: str
    name: str
    description: str = ""
    method: str = "GET"
    parameters: tuple[Parameter, ...] = ()
    template_response: Any = None
    tool_description: str = ""
    #: Where the real tool behind this API is reached (OpenAPI and MCP sources); None for
    #: ToolBench definitions, whose real APIs only a StableToolBench relay reaches.
    origin: HttpOperation | McpTool | None = None

    @cached_property
    def category_folder(self) -> str:
        """The category's folder name in the reference cache layout."""
        return category_folder(self.category)

    @cached_property
    def tool_key(self) -> str:
        """The standardized tool name."""
        return standardize(self.tool_name)

    @cached_property
    def api_key(self) -> str:
        """The standardized API name."""
        return standardize_api(self.name)

    @cached_property
    def function_name(self) -> str:
        """The OpenAI function name agents call this API by."""
        return function_name(self.tool_name, self.name)

    @cached_property
    def signature(self) -> Signature:
        """The parameters by either spelling, with coercion and validation (built once)."""
        # Imported here: the parameter model is built on the classes of this module.
        from toolsim.catalog.parameters import Signature

        return Signature(self.parameters)

    @property
    def required(self) -> tuple[Parameter, ...]:
        """Required parameters, in documented order."""
        return tuple(p for p in self.parameters if p.required)

    @property
    def optional(self) -> tuple[Parameter, ...]:
        """Optional parameters, in documented order."""
        return tuple(p for p in self.parameters if not p.required)

    def parameter(self, name: str) -> Parameter | None:
        """Return the documented parameter called ``name``, if any."""
        for param in self.parameters:
            if param.name == name:
                return param
        return None

    def default_arguments(self, *, include_optional: bool = False) -> dict[str, Any]:
        """Documented defaults of the required (and optionally the optional) parameters."""
        chosen = self.parameters if include_optional else self.required
        return {p.name: p.default for p in chosen if p.default is not None}


ApiId = tuple[str, str, str]
"""(category folder, standardized tool, standardized API): an API's identity.

The catalog indexes APIs by it and cache backends list entries by it."""


def api_id(api: ApiSpec) -> ApiId:
    """The identity of an API, independent of how its names were spelled."""
    return (api.category_folder, api.tool_key, api.api_key)


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool: a named group of APIs with a shared description."""

    category: str
    name: str
    description: str = ""
    apis: tuple[ApiSpec, ...] = field(default=())

    @property
    def tool_key(self) -> str:
        """The standardized tool name."""
        return standardize(self.name)


@dataclass(frozen=True, slots=True)
class Query:
    """A benchmark query: the task, its candidate APIs and the APIs that solve it."""

    query_id: str
    text: str
    apis: tuple[ApiSpec, ...]
    relevant: tuple[tuple[str, str], ...] = ()
    group: str = ""

"""Tool definitions: loading, canonical names and OpenAI schemas."""

from toolsim.catalog.catalog import ApiId, Catalog, api_id
from toolsim.catalog.loaders import EXAMPLE_SUITE, example_suite_dir, load_sources
from toolsim.catalog.models import ApiSpec, Parameter, ParamType, Query, ToolSpec
from toolsim.catalog.names import (
    category_folder,
    function_name,
    standardize,
    standardize_api,
)
from toolsim.catalog.parameters import ParamNames, Signature, stb_parameter_name
from toolsim.catalog.tool_schemas import function_schema, openai_tools

__all__ = [
    "EXAMPLE_SUITE",
    "ApiId",
    "ApiSpec",
    "Catalog",
    "ParamNames",
    "ParamType",
    "Parameter",
    "Query",
    "Signature",
    "ToolSpec",
    "api_id",
    "category_folder",
    "example_suite_dir",
    "function_name",
    "function_schema",
    "load_sources",
    "openai_tools",
    "standardize",
    "standardize_api",
    "stb_parameter_name",
]

"""OpenAI ``tools`` lists built from catalog APIs."""

import re
from pathlib import Path
from typing import Any

import pytest

from toolsim.catalog import ApiSpec, Catalog, Parameter, ParamType, function_schema, openai_tools

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
QUERY_DIR = SHARED_DATA / "stabletoolbench" / "solvable_queries" / "test_instruction"

OPENAI_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")
JSON_TYPES = {"string", "number", "integer", "boolean", "array", "object", "null"}


def assert_valid_tools(tools: list[dict[str, Any]]) -> None:
    """Check the shape OpenAI's chat-completions API accepts for ``tools``."""
    assert isinstance(tools, list)
    for tool in tools:
        assert set(tool) == {"type", "function"}
        assert tool["type"] == "function"
        function = tool["function"]
        name = function["name"]
        assert 0 < len(name) <= 64, name
        assert OPENAI_NAME.match(name), name
        assert isinstance(function["description"], str)
        parameters = function["parameters"]
        assert parameters["type"] == "object", name
        properties = parameters["properties"]
        assert isinstance(properties, dict)
        for prop_name, prop in properties.items():
            assert isinstance(prop_name, str) and prop_name, name
            assert prop["type"] in JSON_TYPES, (name, prop_name)
        required = parameters["required"]
        assert isinstance(required, list)
        assert len(set(required)) == len(required), name
        assert set(required) <= set(properties), name


def test_example_suite_tools_are_valid() -> None:
    catalog = Catalog.from_paths(["example"])
    tools = openai_tools(catalog)
    assert len(tools) == len(catalog) == 19
    assert_valid_tools(tools)
    assert [t["function"]["name"] for t in tools] == [a.function_name for a in catalog]


@pytest.mark.shared_data
def test_shared_data_tools_are_valid() -> None:
    if not QUERY_DIR.is_dir():
        pytest.skip(f"StableToolBench query files not found in {QUERY_DIR}")
    catalog = Catalog.from_paths([QUERY_DIR])
    tools = openai_tools(catalog)
    assert len(tools) == len(catalog) > 2000
    assert_valid_tools(tools)


def _api() -> ApiSpec:
    return ApiSpec(
        category="Data",
        tool_name="Demo Tool",
        name="Lookup Thing",
        description="Looks a thing up.",
        tool_description="A demo tool.",
        parameters=(
            Parameter("q", ParamType.STRING, "query text", default="cats", required=True),
            Parameter("limit", ParamType.NUMBER, "how many", default=5, required=True),
            Parameter("exact", ParamType.BOOLEAN, "exact match"),
            Parameter("since", ParamType.DATE, "start date"),
            Parameter("mode", ParamType.ENUM),
            Parameter("ids", ParamType.ARRAY),
        ),
    )


def test_parameter_types_map_to_json_schema_types() -> None:
    schema = function_schema(_api())
    assert schema["name"] == "lookup_thing_for_demo_tool"
    props = schema["parameters"]["properties"]
    assert {name: p["type"] for name, p in props.items()} == {
        "q": "string",
        "limit": "number",
        "exact": "boolean",
        "since": "string",
        "mode": "string",
        "ids": "string",
    }
    assert props["since"]["format"] == "date"
    assert props["q"]["description"] == "query text"
    assert "description" not in props["mode"]
    assert schema["parameters"]["required"] == ["q", "limit"]
    assert_valid_tools(openai_tools([_api()]))


def test_description_names_the_api_and_the_tool() -> None:
    description = function_schema(_api())["description"]
    assert "Lookup Thing" in description
    assert "Demo Tool" in description
    assert "Looks a thing up." in description
    assert "A demo tool." in description


def test_api_without_parameters_has_an_empty_object_schema() -> None:
    schema = function_schema(ApiSpec(category="Data", tool_name="T", name="ping"))
    assert schema["parameters"] == {"type": "object", "properties": {}, "required": []}


def test_long_names_are_cut_to_a_valid_name() -> None:
    api = ApiSpec(category="Data", tool_name="Some Rather Long Tool Name", name="x y " * 30)
    assert_valid_tools(openai_tools([api]))

"""Loading tool folders, query files and the example suite; resolving client names."""

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from toolsim.catalog import (
    ApiSpec,
    Catalog,
    ParamType,
    ToolSpec,
    api_id,
    load_sources,
    standardize,
    standardize_api,
)
from toolsim.errors import ToolNotFound, UserError

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
QUERY_DIR = SHARED_DATA / "stabletoolbench" / "solvable_queries" / "test_instruction"
QUERY_FILES = ("G1_instruction", "G1_category", "G1_tool", "G2_instruction")

TOOL_DESCRIPTION = "Made-up weather service for tests."


def _param(name: str, type_: str, default: Any = None) -> dict[str, Any]:
    return {"name": name, "type": type_, "description": f"the {name}", "default": default}


def _tool_file() -> dict[str, Any]:
    return {
        "tool_name": "Sky Cast!",
        "tool_description": TOOL_DESCRIPTION,
        "title": "Sky Cast",
        "api_list": [
            {
                "name": "Current Weather",
                "description": "Weather now.",
                "method": "get",
                "required_parameters": [_param("city", "string", "Lisbon")],
                "optional_parameters": [
                    _param("units", "STRING"),
                    _param("date", "DATE (YYYY-MM-DD)"),
                    _param("days", "NUMBER", 3),
                    _param("hourly", "BOOLEAN"),
                    _param("mood", "SOMETHING ODD"),
                    _param("untyped", ""),
                ],
                "template_response": {"temp": "float", "city": "str"},
            },
            {
                "name": "Forecast",
                "description": "Weather later.",
                "method": "POST",
                "required_parameters": [],
                "optional_parameters": [],
                # Some tool files carry the template as JSON text.
                "template_response": '{"days": [{"temp": "float", "_list_length": 5}]}',
            },
            {
                "name": "Alerts",
                "description": "",
                "required_parameters": [],
                "optional_parameters": [],
                "template_response": "not json at all",
            },
        ],
    }


def _write_tool_folder(root: Path, category: str = "Weather") -> Path:
    folder = root / "tools" / category
    folder.mkdir(parents=True)
    (folder / "sky_cast.json").write_text(json.dumps(_tool_file()), encoding="utf-8")
    return root / "tools"


def _query_api(
    api_name: str, *, tool: str = "Sky Cast!", category: str = "Weather", **extra: Any
) -> dict[str, Any]:
    return {
        "category_name": category,
        "tool_name": tool,
        "api_name": api_name,
        "api_description": f"{api_name} from a query",
        "required_parameters": [],
        "optional_parameters": [],
        "method": "GET",
        **extra,
    }


def _write_query_file(path: Path, queries: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(queries), encoding="utf-8")
    return path


QUERIES = [
    {
        "query": "What's the weather in Lisbon?",
        "query_id": 7,
        "api_list": [_query_api("Current Weather"), _query_api("Quote", tool="Stocks Inc")],
        "relevant APIs": [["Sky Cast!", "Current Weather"]],
    },
    {
        "query": "Any alerts?",
        "query_id": 8,
        "api_list": [
            _query_api("Alerts", template_response={"alerts": ["list of str with length 2"]})
        ],
        "relevant APIs": [["Sky Cast!", "Alerts"], "malformed"],
    },
]


# Tool folders.


def test_tool_folder_loads_tools_apis_and_templates(tmp_path: Path) -> None:
    tools, queries = load_sources([_write_tool_folder(tmp_path)])
    assert queries == []
    assert len(tools) == 1
    tool = tools[0]
    assert (tool.category, tool.name) == ("Weather", "Sky Cast!")
    assert tool.description == TOOL_DESCRIPTION
    current, forecast, alerts = tool.apis
    assert current.name == "Current Weather"
    assert current.method == "GET"
    assert current.tool_description == TOOL_DESCRIPTION
    assert current.template_response == {"temp": "float", "city": "str"}
    assert forecast.method == "POST"
    assert forecast.template_response == {"days": [{"temp": "float", "_list_length": 5}]}
    # A string that is not JSON is kept as it is.
    assert alerts.template_response == "not json at all"
    assert current.function_name == "current_weather_for_sky_cast"


def test_parameter_types_required_flags_and_defaults(tmp_path: Path) -> None:
    catalog = Catalog.from_paths([_write_tool_folder(tmp_path)])
    api = catalog.resolve("Weather", "Sky Cast!", "Current Weather")
    types = {p.name: p.type for p in api.parameters}
    assert types == {
        "city": ParamType.STRING,
        "units": ParamType.STRING,
        "date": ParamType.DATE,
        "days": ParamType.NUMBER,
        "hourly": ParamType.BOOLEAN,
        "mood": ParamType.STRING,
        "untyped": ParamType.STRING,
    }
    assert [p.name for p in api.required] == ["city"]
    assert [p.name for p in api.optional][0] == "units"
    assert api.parameter("date").raw_type == "DATE (YYYY-MM-DD)"
    assert api.parameter("days").default == 3
    assert api.default_arguments() == {"city": "Lisbon"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("string", ParamType.STRING),
        ("STRING", ParamType.STRING),
        ("DATE (YYYY-MM-DD)", ParamType.DATE),
        ("TIME (24-hour HH:MM)", ParamType.TIME),
        ("number", ParamType.NUMBER),
        ("integer", ParamType.NUMBER),
        ("boolean", ParamType.BOOLEAN),
        ("ENUM", ParamType.ENUM),
        ("NUMBERS", ParamType.STRING),
        ("whatever", ParamType.STRING),
        ("", ParamType.STRING),
        (None, ParamType.STRING),
    ],
)
def test_param_type_parse(raw: object, expected: ParamType) -> None:
    assert ParamType.parse(raw) is expected


def test_single_tool_file_takes_its_category_from_its_folder(tmp_path: Path) -> None:
    root = _write_tool_folder(tmp_path, category="News_Media")
    tools, _ = load_sources([root / "News_Media" / "sky_cast.json"])
    assert [t.category for t in tools] == ["News_Media"]


# Query files.


def test_query_file_loads_queries_with_group_and_relevant_apis(tmp_path: Path) -> None:
    path = _write_query_file(tmp_path / "G9_custom.json", QUERIES)
    catalog = Catalog.from_paths([path])
    assert catalog.groups == ["G9_custom"]
    query = catalog.query("G9_custom", "7")
    assert query.query_id == "7"
    assert query.text == "What's the weather in Lisbon?"
    assert [(a.tool_name, a.name) for a in query.apis] == [
        ("Sky Cast!", "Current Weather"),
        ("Stocks Inc", "Quote"),
    ]
    assert query.relevant == (("Sky Cast!", "Current Weather"),)
    # Malformed relevant entries are ignored rather than fatal.
    assert catalog.query("G9_custom", 8).relevant == (("Sky Cast!", "Alerts"),)
    assert len(catalog) == 3
    with pytest.raises(ToolNotFound):
        catalog.query("G9_custom", "999")


def test_folder_of_query_files_uses_file_stems_as_groups(tmp_path: Path) -> None:
    folder = tmp_path / "queries"
    folder.mkdir()
    _write_query_file(folder / "G1_a.json", QUERIES[:1])
    _write_query_file(folder / "G1_b.json", QUERIES[1:])
    catalog = Catalog.from_paths([folder])
    assert catalog.groups == ["G1_a", "G1_b"]
    assert sorted(catalog.queries) == [("G1_a", "7"), ("G1_b", "8")]


# The bundled example suite.


def test_example_suite() -> None:
    catalog = Catalog.from_paths(["example"])
    assert len(catalog) == 19
    assert len(catalog.queries) == 20
    assert catalog.groups == ["example"]
    for api in catalog:
        assert api.template_response, api.function_name
        assert api.tool_description, api.function_name
    for query in catalog.queries.values():
        offered = {(standardize(a.tool_name), standardize_api(a.name)) for a in query.apis}
        assert query.relevant, query.query_id
        for tool, api in query.relevant:
            assert (standardize(tool), standardize_api(api)) in offered, (query.query_id, api)


# Merging.


@pytest.mark.parametrize("query_first", [False, True])
def test_same_api_in_tool_folder_and_query_file_is_one_api(
    tmp_path: Path, query_first: bool
) -> None:
    tools = _write_tool_folder(tmp_path)
    queries = _write_query_file(tmp_path / "G9.json", QUERIES)
    catalog = Catalog.from_paths([queries, tools] if query_first else [tools, queries])
    # 3 APIs from the tool file + "Quote" of another tool; the query copies merge.
    assert len(catalog) == 4
    merged = catalog.resolve("Weather", "Sky Cast!", "Current Weather")
    assert merged.tool_description == TOOL_DESCRIPTION
    matching = [a for a in catalog if a.api_key == "current_weather"]
    assert len(matching) == 1


def test_merging_fills_gaps_from_either_definition() -> None:
    from_tool = ApiSpec(category="Weather", tool_name="Sky Cast", name="Now", description="")
    from_query = ApiSpec(
        category="Weather",
        tool_name="sky_cast",
        name="now",
        description="Weather now.",
        template_response={"temp": "float"},
    )
    tool = ToolSpec(
        category="Weather", name="Sky Cast", description=TOOL_DESCRIPTION, apis=(from_tool,)
    )
    catalog = Catalog([tool])
    catalog.add(from_query)
    assert len(catalog) == 1
    api = catalog.resolve("Weather", "Sky Cast", "Now")
    assert api.template_response == {"temp": "float"}
    assert api.description == "Weather now."
    assert api.tool_description == TOOL_DESCRIPTION


def test_query_only_api_gets_the_description_of_its_tool() -> None:
    tool = ToolSpec(category="Weather", name="Sky Cast", description=TOOL_DESCRIPTION, apis=())
    catalog = Catalog([tool])
    catalog.add(ApiSpec(category="Weather", tool_name="Sky Cast", name="Later"))
    assert catalog.resolve("Weather", "Sky Cast", "Later").tool_description == TOOL_DESCRIPTION


# Errors.


def test_missing_path_is_a_user_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "tools"
    with pytest.raises(UserError) as info:
        Catalog.from_paths([missing])
    assert str(missing) in str(info.value)


@pytest.mark.parametrize("content", ['{"foo": 1}', "42", '"text"'])
def test_json_of_neither_format_is_a_user_error_naming_it(tmp_path: Path, content: str) -> None:
    path = tmp_path / "odd.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UserError) as info:
        Catalog.from_paths([path])
    assert str(path) in str(info.value)


def test_unreadable_json_is_a_user_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("[{", encoding="utf-8")
    with pytest.raises(UserError) as info:
        Catalog.from_paths([path])
    assert str(path) in str(info.value)


# Resolving the names clients send.


@pytest.fixture(scope="module")
def example() -> Catalog:
    return Catalog.from_paths(["example"])


@pytest.mark.parametrize(
    ("category", "tool", "api"),
    [
        ("Weather", "SkyCast Weather", "Get 5-day Forecast"),
        ("Weather", "skycast_weather", "get_5_day_forecast"),
        ("Weather", "SkyCast Weather", "get_5_day_forecast_for_skycast_weather"),
        ("Weather", "skycast_weather", "get_5_day_forecast_for_skycast_weather"),
        # A wrong category is forgiven when the tool and API are unambiguous.
        ("Finance", "SkyCast Weather", "Get 5-day Forecast"),
        ("", "SkyCast Weather", "Get 5-day Forecast"),
    ],
)
def test_resolve_accepts_every_spelling(example: Catalog, category: str, tool: str, api: str):
    found = example.resolve(category, tool, api)
    assert (found.category, found.tool_name, found.name) == (
        "Weather",
        "SkyCast Weather",
        "Get 5-day Forecast",
    )


def test_resolve_names_with_punctuation(example: Catalog) -> None:
    found = example.resolve("Food", "open recipes hub", "search/by-ingredient")
    assert found.name == "search/by-ingredient"
    assert example.resolve("Food", "Open Recipes Hub", "search_by_ingredient") is found


def test_resolve_unknown_tool(example: Catalog) -> None:
    with pytest.raises(ToolNotFound) as info:
        example.resolve("Weather", "Rain Maker", "Current Weather")
    assert "Rain Maker" in info.value.message


def test_resolve_unknown_api_lists_the_tools_apis(example: Catalog) -> None:
    with pytest.raises(ToolNotFound) as info:
        example.resolve("Weather", "SkyCast Weather", "Tomorrow")
    assert "SkyCast Weather" in info.value.message
    assert "Tomorrow" in info.value.message
    assert info.value.details["known_apis"] == [
        "Air Quality Index",
        "Current Weather",
        "Get 5-day Forecast",
    ]


def _twin_catalog() -> tuple[Catalog, ApiSpec, ApiSpec]:
    data = ApiSpec(category="Data", tool_name="Demo Project", name="me")
    shop = ApiSpec(category="eCommerce", tool_name="Demo Project", name="me")
    catalog = Catalog(
        [
            ToolSpec(category="Data", name="Demo Project", apis=(data,)),
            ToolSpec(category="eCommerce", name="Demo Project", apis=(shop,)),
        ]
    )
    return catalog, data, shop


def test_same_tool_in_two_categories() -> None:
    catalog, data, shop = _twin_catalog()
    assert len(catalog) == 2
    assert api_id(catalog.resolve("Data", "Demo Project", "me")) == api_id(data)
    assert api_id(catalog.resolve("eCommerce", "demo_project", "me")) == api_id(shop)
    with pytest.raises(ToolNotFound) as info:
        catalog.resolve("Finance", "Demo Project", "me")
    assert info.value.details["categories"] == ["Data", "eCommerce"]


def test_by_function_ambiguity_is_resolved_by_scope() -> None:
    catalog, data, shop = _twin_catalog()
    with pytest.raises(ToolNotFound, match="shared by 2 APIs; call one of"):
        catalog.by_function("me_for_demo_project")
    assert api_id(catalog.by_function("me_for_demo_project", within=[shop])) == api_id(shop)
    assert api_id(catalog.by_function("me_for_demo_project", within=[data])) == api_id(data)
    with pytest.raises(ToolNotFound):
        catalog.by_function("you_for_demo_project")
    with pytest.raises(ToolNotFound):
        catalog.by_function("me_for_demo_project", within=[])


def test_long_function_names_resolve_cut_or_whole() -> None:
    api = ApiSpec(category="Data", tool_name="Demo", name="x" * 70)
    catalog = Catalog([ToolSpec(category="Data", name="Demo", apis=(api,))])
    assert len(api.function_name) == 64
    assert catalog.by_function(api.function_name) == api
    assert catalog.by_function("x" * 70 + "_for_demo") == api
    assert catalog.resolve("Data", "Demo", api.function_name) == api


# The StableToolBench query files.


@pytest.fixture(scope="module")
def benchmark() -> Catalog:
    if not all((QUERY_DIR / f"{name}.json").is_file() for name in QUERY_FILES):
        pytest.skip(f"StableToolBench query files not found in {QUERY_DIR}")
    return Catalog.from_paths([QUERY_DIR / f"{name}.json" for name in QUERY_FILES])


@pytest.mark.shared_data
def test_benchmark_query_files_load(benchmark: Catalog) -> None:
    assert len(benchmark.queries) == 580
    assert benchmark.groups == sorted(QUERY_FILES)
    counts = {g: sum(1 for group, _ in benchmark.queries if group == g) for g in QUERY_FILES}
    assert counts == {
        "G1_instruction": 163,
        "G1_category": 153,
        "G1_tool": 158,
        "G2_instruction": 106,
    }


@pytest.mark.shared_data
def test_every_benchmark_api_resolves_by_its_names(benchmark: Catalog) -> None:
    checked = collided = 0
    for query in benchmark.queries.values():
        offered = Counter(api.function_name for api in query.apis)
        for api in query.apis:
            resolved = benchmark.resolve(api.category, api.tool_name, api.name)
            assert api_id(resolved) == api_id(api), (query.query_id, api.name)
            if offered[api.function_name] > 1:
                # Cutting to the last 64 characters makes a few APIs of one tool
                # share a name in the reference too; toolsim says so instead of guessing
                # and names the distinct names each can be called by.
                with pytest.raises(ToolNotFound, match="shared by [0-9] APIs; call one of"):
                    benchmark.by_function(api.function_name, within=query.apis)
                collided += 1
                continue
            scoped = benchmark.by_function(api.function_name, within=query.apis)
            assert api_id(scoped) == api_id(api), (query.query_id, api.function_name)
            checked += 1
    assert checked > 2000
    # Four queries offer colliding names (e.g. "Today/Tomorrow/Yesterday Sure VIP ..."
    # of "168predict VIP Football Predictions"); nearly every API stays unambiguous.
    assert 0 < collided < 20

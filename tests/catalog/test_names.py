"""StableToolBench naming rules (REFERENCE.md section 2), on hand-made and real names."""

import json
import re
from pathlib import Path

import pytest

from toolsim.catalog import (
    Catalog,
    category_folder,
    function_name,
    standardize,
    standardize_api,
)
from toolsim.catalog.models import api_id
from toolsim.errors import ToolNotFound

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
STB = SHARED_DATA / "stabletoolbench"
G1_QUERIES = STB / "solvable_queries" / "test_instruction" / "G1_instruction.json"
EXAMPLE = STB / "data_example"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Keyword Analysis", "keyword_analysis"),
        ("popularSitesForQuery", "popularsitesforquery"),
        # Punctuation and spaces become "_", then runs collapse.
        ("Kick.com API | Kick API", "kick_com_api_kick_api"),
        ("Get Chat User (like user from chat)", "get_chat_user_like_user_from_chat"),
        ("search/by-ingredient", "search_by_ingredient"),
        ("a___b", "a_b"),
        ("a _-_ b", "a_b"),
        # Leading and trailing "_" (original or produced) are stripped.
        ("  --hello--  ", "hello"),
        ("__init__", "init"),
        # Letters are ASCII letters, as in the reference: "é" is not kept.
        ("Café", "caf"),
        # CJK ideographs are kept; kana are not ideographs.
        ("天气 API", "天气_api"),
        ("日本語-テキスト", "日本語"),
        # A leading digit (after stripping) gets "get_".
        ("5 Day Forecast", "get_5_day_forecast"),
        ("_1abc", "get_1abc"),
        ("a1", "a1"),
        # Reserved words are not renamed by plain standardize (tool names).
        ("From", "from"),
        ("", ""),
        ("!!!", ""),
    ],
)
def test_standardize(raw: str, expected: str) -> None:
    assert standardize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("from", "is_from"),
        ("Class", "is_class"),
        (" Return ", "is_return"),
        ("FALSE", "is_false"),
        ("true", "is_true"),
        ("ID", "is_id"),
        ("and", "is_and"),
        # Only whole names are reserved.
        ("fromage", "fromage"),
        ("id card", "id_card"),
        ("get id", "get_id"),
        ("Current Weather", "current_weather"),
        ("3d model", "get_3d_model"),
    ],
)
def test_standardize_api(raw: str, expected: str) -> None:
    assert standardize_api(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("News, Media", "News_Media"),
        ("Video, Images", "Video_Images"),
        ("Business Software", "Business_Software"),
        ("Artificial Intelligence/Machine Learning", "Artificial_Intelligence_Machine_Learning"),
        # Case is kept; names already in folder form are unchanged.
        ("eCommerce", "eCommerce"),
        ("News_Media", "News_Media"),
        # Every ", " pair is shortened (the reference's str.replace is not limited to one).
        ("A, B, C", "A_B_C"),
        # One pass only: three separators leave "__".
        ("A , B", "A__B"),
    ],
)
def test_category_folder(raw: str, expected: str) -> None:
    assert category_folder(raw) == expected


def test_function_name_joins_standardized_api_and_tool() -> None:
    assert (
        function_name("keyword analysis", "popularSitesForQuery")
        == "popularsitesforquery_for_keyword_analysis"
    )
    assert function_name("Kick.com API | Kick API", "Get Channel Clips") == (
        "get_channel_clips_for_kick_com_api_kick_api"
    )


def test_function_name_renames_reserved_words_in_the_api_part_only() -> None:
    assert function_name("True", "and") == "is_and_for_true"
    assert function_name("From", "ID") == "is_id_for_from"


def test_function_name_at_the_limit_is_unchanged() -> None:
    api = "a" * (64 - len("_for_demo"))
    assert function_name("demo", api) == api + "_for_demo"
    assert len(function_name("demo", api)) == 64


def test_function_name_over_64_characters_keeps_the_end() -> None:
    # The reference keeps the last 64 characters, so the tool suffix survives.
    name = function_name("Demo", "A" * 70)
    assert len(name) == 64
    assert name == "a" * 55 + "_for_demo"


def test_function_name_cut_counts_characters_not_bytes() -> None:
    name = function_name("工具", "天" * 80)
    assert len(name) == 64
    assert name.endswith("天_for_工具")


def _require_shared_data() -> None:
    if not EXAMPLE.is_dir() or not G1_QUERIES.is_file():
        pytest.skip(f"StableToolBench reference data not found under {SHARED_DATA}")


@pytest.fixture(scope="module")
def g1_catalog() -> Catalog:
    _require_shared_data()
    return Catalog.from_paths([G1_QUERIES])


def _answer_files() -> list[Path]:
    return sorted(EXAMPLE.glob("answer/*/G1_instruction/*.json"))


def _converted_files() -> list[Path]:
    return sorted(EXAMPLE.glob("model_predictions_converted/*/G1_instruction.json"))


@pytest.mark.shared_data
def test_function_names_match_the_reference_answers(g1_catalog: Catalog) -> None:
    files = _answer_files()
    assert files, "no answer files found"
    for path in files:
        query_id = path.name.split("_", 1)[0]
        answer = json.loads(path.read_text(encoding="utf-8"))
        offered = [
            f["name"] for f in answer["answer_generation"]["function"] if f["name"] != "Finish"
        ]
        computed = [api.function_name for api in g1_catalog.query("G1_instruction", query_id).apis]
        assert computed == offered, path


@pytest.mark.shared_data
def test_function_names_match_the_converted_predictions(g1_catalog: Catalog) -> None:
    files = _converted_files()
    assert files, "no converted prediction files found"
    checked = 0
    for path in files:
        predictions = json.loads(path.read_text(encoding="utf-8"))
        for query_id, prediction in predictions.items():
            offered = [t["name"] for t in prediction["available_tools"] if t["name"] != "Finish"]
            query = g1_catalog.query("G1_instruction", query_id)
            assert [api.function_name for api in query.apis] == offered, (path, query_id)
            checked += 1
    assert checked > 0


def _long_named_tool() -> Catalog:
    """One tool with two APIs whose names differ only beyond the 64-character cut."""
    from toolsim.catalog.models import ApiSpec, ToolSpec

    ending = "daily_exchange_rate_history_for_every_currency_pair_since_1999"
    apis = tuple(
        ApiSpec(category="Finance", tool_name="FX", name=f"{prefix}_{ending}")
        for prefix in ("get_spot", "get_forward")
    )
    return Catalog([ToolSpec(category="Finance", name="FX", apis=apis)])


def test_apis_whose_cut_names_collide_get_distinct_callable_names() -> None:
    catalog = _long_named_tool()
    [shared] = {api.function_name for api in catalog}  # the reference cut: one name for both
    named = catalog.named()
    assert len(named) == 2 and shared not in named
    assert all(len(name) <= 64 and re.fullmatch(r"[A-Za-z0-9_]+", name) for name in named)
    for name, api in named.items():
        assert api.function_name == name
        assert catalog.by_function(name) == api  # each one callable
        assert catalog.by_function(name, within=list(catalog)) == api
    # The same API gets the same name in every scope where its name is shared.
    assert catalog.named(list(catalog)) == named
    with pytest.raises(ToolNotFound, match="shared by 2 APIs; call one of"):
        catalog.by_function(shared)
    # Alone in a scope, an API keeps its reference name.
    [alone] = list(catalog)[:1]
    assert list(catalog.named([alone])) == [shared]


@pytest.mark.shared_data
def test_every_api_of_every_stabletoolbench_query_can_be_called_by_name() -> None:
    # 15 APIs in 4 queries shared a cut name with another candidate of their query.
    files = sorted((STB / "solvable_queries" / "test_instruction").glob("*.json"))
    catalog = Catalog.from_paths([str(path) for path in files])
    renamed = 0
    for query in catalog.queries.values():
        scope = [catalog.resolve(a.category, a.tool_name, a.name) for a in query.apis]
        named = catalog.named(scope)
        assert len(named) == len({api_id(api) for api in scope}), query.query_id
        for name, api in named.items():
            assert api_id(catalog.by_function(name, within=scope)) == api_id(api)
        renamed += sum(
            1 for name, api in named.items() if name != catalog.get(api_id(api)).function_name
        )
    assert renamed == 15

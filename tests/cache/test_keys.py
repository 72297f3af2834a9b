"""Cache keys: the same call always gets the same key, different calls different keys."""

import random
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolsim.cache.keys import cache_key, canonical_json, normalize_arguments
from toolsim.catalog import ApiSpec, Parameter, ParamType

HEX64 = re.compile(r"^[0-9a-f]{64}$")

API = ApiSpec(
    category="News, Media",
    tool_name="Daily News!",
    name="Get Headlines",
    parameters=(
        Parameter("n", ParamType.NUMBER, required=True),
        Parameter("flag", ParamType.BOOLEAN),
        Parameter("q", ParamType.STRING),
        Parameter("when", ParamType.DATE),
    ),
)


def key(arguments: dict[str, Any], api: ApiSpec = API) -> str:
    return cache_key(api, normalize_arguments(api, arguments))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)
argument_names = st.sampled_from(["n", "flag", "q", "when"]) | st.text(max_size=6)


def shuffled(value: Any, rnd: random.Random) -> Any:
    """The same value with every dict's insertion order shuffled."""
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return {k: shuffled(v, rnd) for k, v in items}
    if isinstance(value, list):
        return [shuffled(v, rnd) for v in value]
    return value


@pytest.mark.slow
@given(st.dictionaries(argument_names, json_values, max_size=6), st.randoms())
def test_key_order_never_matters(arguments: dict[str, Any], rnd: random.Random) -> None:
    other = shuffled(arguments, rnd)
    assert other == arguments
    assert key(other) == key(arguments)


@given(st.dictionaries(argument_names, json_values, max_size=6))
def test_key_is_64_hex_characters(arguments: dict[str, Any]) -> None:
    assert HEX64.match(key(arguments))


def test_nested_values_with_different_key_order_give_the_same_key() -> None:
    a = {"filters": {"tags": ["x", {"b": 1, "a": 2}], "exact": True}, "q": "cats"}
    b = {"q": "cats", "filters": {"exact": True, "tags": ["x", {"a": 2, "b": 1}]}}
    assert key(a) == key(b)
    assert canonical_json(a) == canonical_json(b)
    # List order is meaningful and is kept.
    c = {"q": "cats", "filters": {"exact": True, "tags": [{"a": 2, "b": 1}, "x"]}}
    assert key(c) != key(a)


@pytest.mark.parametrize("same", ["5", 5, 5.0, " 5 ", "5.0", "+5", "5e0"])
def test_numbers_for_a_number_parameter(same: Any) -> None:
    assert key({"n": same}) == key({"n": 5})
    assert normalize_arguments(API, {"n": same}) == {"n": 5}


def test_fractional_numbers_for_a_number_parameter() -> None:
    assert key({"n": "2.5"}) == key({"n": 2.5})
    assert key({"n": "2.5"}) != key({"n": 2})


@pytest.mark.parametrize("spelling", ["true", "TRUE", "True", True, " true "])
def test_booleans_for_a_boolean_parameter(spelling: Any) -> None:
    assert key({"flag": spelling}) == key({"flag": True})
    assert key({"flag": spelling}) != key({"flag": False})


def test_false_spellings_for_a_boolean_parameter() -> None:
    assert key({"flag": "FALSE"}) == key({"flag": False}) == key({"flag": "false"})


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"q": "5"}, {"q": "5"}),
        ({"q": "true"}, {"q": "true"}),
        ({"n": "abc"}, {"n": "abc"}),
        ({"n": "5 apples"}, {"n": "5 apples"}),
        ({"n": ""}, {"n": ""}),
        ({"n": True}, {"n": True}),
        ({"n": None}, {"n": None}),
        ({"flag": "1"}, {"flag": "1"}),
        ({"flag": "yes"}, {"flag": "yes"}),
        ({"flag": 1}, {"flag": 1}),
        ({"when": "2024-01-05"}, {"when": "2024-01-05"}),
        # Undocumented arguments are never coerced.
        ({"extra": "5"}, {"extra": "5"}),
    ],
)
def test_ambiguous_values_are_left_alone(arguments: dict[str, Any], expected: dict[str, Any]):
    normalized = normalize_arguments(API, arguments)
    assert normalized == expected
    assert type(next(iter(normalized.values()))) is type(next(iter(expected.values())))


def test_ambiguous_values_keep_their_own_keys() -> None:
    assert key({"flag": "1"}) != key({"flag": True})
    assert key({"n": "abc"}) != key({"n": "ABC"})
    assert key({"extra": "5"}) != key({"extra": 5})


def test_numbers_for_a_string_parameter_are_the_same_as_their_text() -> None:
    assert key({"q": 5}) == key({"q": "5"})
    assert key({"q": True}) != key({"q": "True"})


def test_numbers_too_big_for_64_bits_do_not_break_keys() -> None:
    digits = "123456789012345678901234567890"
    assert HEX64.match(key({"n": digits}))
    assert key({"n": digits}) != key({"n": digits[:-1] + "1"})
    assert HEX64.match(key({"n": 1e20}))
    assert key({"n": "1e20"}) == key({"n": 1e20})
    # An integer parsed from a repr()-style tool_input can be arbitrarily large.
    assert key({"extra": 2**80}) != key({"extra": 2**80 + 1})
    assert key({"extra": 2**80, "q": "x"}) == key({"q": "x", "extra": 2**80})


def test_different_apis_get_different_keys_for_the_same_arguments() -> None:
    arguments = {"n": 5, "q": "cats"}
    other_api = ApiSpec(category="News, Media", tool_name="Daily News!", name="Get Stories")
    other_tool = ApiSpec(category="News, Media", tool_name="Weekly News", name="Get Headlines")
    other_category = ApiSpec(category="Data", tool_name="Daily News!", name="Get Headlines")
    keys = {key(arguments, api) for api in (API, other_api, other_tool, other_category)}
    assert len(keys) == 4


def test_the_same_api_spelled_differently_gets_the_same_key() -> None:
    standardized = ApiSpec(
        category="News_Media",
        tool_name="daily_news",
        name="get_headlines",
        parameters=API.parameters,
    )
    assert key({"n": "5", "q": "cats"}, standardized) == key({"q": "cats", "n": 5}, API)


def test_different_arguments_get_different_keys() -> None:
    assert key({"q": "cats"}) != key({"q": "dogs"})
    assert key({"q": "cats"}) != key({"q": "cats", "n": 1})
    assert key({}) != key({"q": ""})
    assert key({"q": None}) != key({})


def test_strings_orjson_refuses_do_not_break_keys() -> None:
    # A lone surrogate can arrive through a repr()-style tool_input.
    assert HEX64.match(key({"q": "\ud800"}))
    assert key({"q": "\ud800"}) != key({"q": "\ud801"})

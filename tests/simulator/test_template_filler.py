import hashlib
import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from toolsim.cache.entry import Source
from toolsim.catalog import ApiSpec, Catalog
from toolsim.simulator import SimulationRequest, create_simulator
from toolsim.simulator.schema import SchemaSimulator
from toolsim.simulator.texts import parse_truncated_json

QUERIES = (
    Path(__file__).parents[2]
    / ".."
    / "shared"
    / "data"
    / "stabletoolbench"
    / "solvable_queries"
    / "test_instruction"
)


def _key(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def _request(template: Any, arguments: dict[str, Any] | None = None, seed: str = "a"):
    api = ApiSpec(category="Data", tool_name="Demo", name="lookup", template_response=template)
    return SimulationRequest(api=api, arguments=arguments or {}, key=_key(seed))


async def _response(template: Any, arguments: dict[str, Any] | None = None, seed: str = "a"):
    simulation = await SchemaSimulator().simulate(_request(template, arguments, seed))
    assert simulation.reply.error == ""
    return simulation.reply.response


TEMPLATE = {
    "count": "int",
    "results": [
        {
            "id": "str",
            "name": "str",
            "price": "float",
            "open": "bool",
            "note": "NoneType",
            "_list_length": 4,
        }
    ],
    "tags": ["list of str with length 8"],
    "meta": {"created": "str", "url": "str", "empty": "empty list"},
}


async def test_same_key_gives_identical_bytes():
    first = await _response(TEMPLATE, {"q": "x"})
    second = await _response(TEMPLATE, {"q": "x"})
    assert orjson.dumps(first) == orjson.dumps(second)


async def test_different_keys_differ():
    replies = {orjson.dumps(await _response(TEMPLATE, seed=str(i))) for i in range(5)}
    assert len(replies) > 1


async def test_list_length_is_respected_and_hidden():
    response = await _response(TEMPLATE)
    assert len(response["results"]) == 4
    assert "_list_length" not in orjson.dumps(response).decode()


async def test_list_length_is_capped():
    response = await _response([{"id": "int", "_list_length": 500}])
    assert len(response) == 10


async def test_list_of_str_with_length():
    response = await _response(TEMPLATE)
    assert len(response["tags"]) == 8
    assert all(isinstance(tag, str) for tag in response["tags"])


async def test_leaf_types_match_template():
    response = await _response(TEMPLATE)
    assert type(response["count"]) is int
    for item in response["results"]:
        assert isinstance(item["id"], str) and isinstance(item["name"], str)
        assert type(item["price"]) is float
        assert type(item["open"]) is bool
        assert item["note"] is None
    assert response["meta"]["empty"] == []
    assert response["meta"]["url"].startswith("https://example.com/")
    assert len(response["meta"]["created"]) == 10  # ISO date


async def test_arguments_are_echoed_and_converted():
    template = {"city": "str", "page_number": "int", "Max-Price": "float", "flag": "bool"}
    arguments = {"City": "Lisbon", "pageNumber": "3", "max_price": 9, "flag": "true"}
    response = await _response(template, arguments)
    assert response == {"city": "Lisbon", "page_number": 3, "Max-Price": 9.0, "flag": True}
    assert type(response["Max-Price"]) is float


async def test_argument_of_wrong_type_falls_back_to_seeded_value():
    response = await _response({"count": "int"}, {"count": "many"})
    assert type(response["count"]) is int


async def test_free_text_template_is_returned():
    assert await _response("Returns the weather.") == "Returns the weather."


async def test_scalar_and_json_text_templates():
    assert isinstance(await _response("str"), str)
    assert type(await _response("int")) is int
    assert (await _response('{"ok": "bool"}')) == {"ok": True}


def test_truncated_json_is_repaired():
    text = '{"a": "str", "b": [{"c": "int", "_list_length": 2}], "d": {"e": "flo'
    assert parse_truncated_json(text) == {"a": "str", "b": [{"c": "int", "_list_length": 2}]}


async def test_pathological_depth_is_cut():
    template: Any = "str"
    for _ in range(20):
        template = {"x": template}
    assert "..." in orjson.dumps(await _response(template)).decode()


async def test_registry_builds_it_and_ignores_unknown_options():
    simulator = create_simulator("schema", model="ignored", temperature=0.3)
    assert isinstance(simulator, SchemaSimulator)
    simulation = await simulator.simulate(_request({"x": "int"}))
    assert simulation.source is Source.SIMULATED
    assert simulation.simulator == "schema"
    await simulator.aclose()


@pytest.mark.slow
@pytest.mark.shared_data
async def test_every_real_api_gives_a_small_json_reply():
    if not QUERIES.is_dir():
        pytest.skip(f"StableToolBench queries not found at {QUERIES}")
    catalog = Catalog.from_paths([QUERIES])
    simulator = SchemaSimulator()
    count = 0
    for api in catalog:
        arguments = api.default_arguments(include_optional=True)
        key = _key(api.function_name + json.dumps(arguments, sort_keys=True, default=str))
        request = SimulationRequest(api=api, arguments=arguments, key=key)
        body = orjson.dumps((await simulator.simulate(request)).reply.response)
        assert len(body) < 20_000, api.function_name
        count += 1
    assert count > 0


async def test_values_are_plausible_for_their_field_names():
    from toolsim.catalog import Catalog

    catalog = Catalog.from_paths(["example"])
    simulator = SchemaSimulator()
    seen: dict[str, list] = {}
    for n in range(40):
        for function, arguments in (
            ("getrecipedetails_for_open_recipes_hub", {"recipe_id": n}),
            (
                "search_hotels_for_tripnest_hotels",
                {"city": f"c{n}", "check_in": "x", "check_out": "y"},
            ),
            ("movie_details_for_reelradar", {"movie_id": str(n)}),
            ("company_profile_for_market_pulse", {"symbol": f"S{n}"}),
        ):
            api = catalog.by_function(function)
            request = SimulationRequest(api=api, arguments=arguments, key=f"{n:02d}{function}")
            response = (await simulator.simulate(request)).reply.response
            items = response.get("hotels", [response])
            for item in items:
                for field, value in item.items():
                    seen.setdefault(field, []).append(value)
    assert all(1 <= v <= 12 for v in seen["servings"])
    assert all(5 <= v <= 240 for v in seen["ready_in_minutes"] + seen["runtime_minutes"])
    assert all(1900 <= v <= 2025 for v in seen["year"])
    assert all(1 <= v <= 5 for v in seen["stars"] + seen["rating"])
    assert all(v > 0 for v in seen["price"] + seen["market_cap"] + seen["employees"])
    strings = [v for values in seen.values() for v in values if isinstance(v, str)]
    assert not any(v.lower() in ("str", "string", "int", "float") for v in strings)

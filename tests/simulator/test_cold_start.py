"""Cold start: the schema simulator answers APIs that document no usable response shape."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from toolsim.catalog import ApiSpec, Catalog
from toolsim.catalog.models import Parameter, ParamType
from toolsim.simulator.cold_start import api_kind, infer_template, usable_template
from toolsim.simulator.schema import schema_reply


def _api(name: str, *params: str, template: Any = None, description: str = "") -> ApiSpec:
    parameters = tuple(Parameter(p, ParamType.STRING, required=True) for p in params)
    return ApiSpec(
        category="Movies",
        tool_name="Film Finder",
        name=name,
        description=description,
        parameters=parameters,
        template_response=template,
    )


def _reply(api: ApiSpec, **arguments: Any) -> Any:
    key = hashlib.sha256(repr(sorted(arguments.items())).encode()).hexdigest()
    return schema_reply(api, arguments, key)


@pytest.mark.parametrize(
    "template", [None, "", {}, [], {"message": "str"}, {"status": "str", "message": "str"}]
)
def test_missing_or_message_only_templates_are_not_usable(template: Any) -> None:
    assert not usable_template(template)


def test_a_documented_data_template_is_used_as_it_is() -> None:
    api = _api("Movie Details", "movie_id", template={"title": "str", "year": "int"})
    assert usable_template(api.template_response)
    assert set(_reply(api, movie_id="tt0113277")) == {"title", "year"}


def test_a_details_api_answers_about_the_asked_identifier() -> None:
    api = _api("Get Movie Details", "movie_id", template={"message": "str"})
    assert api_kind(api) == "details"
    reply = _reply(api, movie_id="tt0113277")
    assert reply["id"] == "tt0113277" and reply["movie_id"] == "tt0113277"
    assert reply["name"] and reply["description"]


def test_a_search_api_lists_items_matching_the_query() -> None:
    api = _api("searchMovies", "query")
    assert api_kind(api) == "search"
    reply = _reply(api, query="Heat")
    assert reply["query"] == "Heat" and isinstance(reply["total"], int)
    assert list(reply) == ["query", "total", "movies"]
    assert len(reply["movies"]) == 3
    assert all(item["name"].startswith("Heat ") and item["id"] for item in reply["movies"])
    assert len({item["id"] for item in reply["movies"]}) == 3  # ids not copied from the query


def test_any_other_api_reports_success_and_echoes_its_arguments() -> None:
    api = _api("Convert Units", "value", "unit")
    assert api_kind(api) == "action"
    assert infer_template(api) == {
        "status": "success",
        "message": "str",
        "value": "str",
        "unit": "str",
    }
    reply = _reply(api, value="12", unit="km")
    assert reply["value"] == "12" and reply["unit"] == "km" and reply["message"]


def test_the_same_call_gets_the_same_bytes_and_another_call_other_values() -> None:
    api = _api("Get Movie Details", "movie_id")
    assert _reply(api, movie_id="a") == _reply(api, movie_id="a")
    assert _reply(api, movie_id="a")["name"] != _reply(api, movie_id="b")["name"]


@pytest.mark.shared_data
def test_no_api_of_the_shared_groups_gets_an_empty_success(shared_data: Path) -> None:
    folder = shared_data / "stabletoolbench" / "solvable_queries" / "test_instruction"
    catalog = Catalog.from_paths([str(folder)])
    empty = []
    for api in catalog:
        reply = _reply(api, **api.default_arguments())
        if reply in ({}, [], "", None):
            empty.append(api.function_name)
    assert len(catalog) > 2000 and empty == []

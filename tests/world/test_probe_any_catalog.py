"""``toolsim world probe``: search -> details pairs found in any catalog, and checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolsim.catalog import Catalog
from toolsim.cli import app
from toolsim.world.discover import CandidatePair, discover_pairs, first_entity, shared_facts

EXAMPLE = Catalog.from_paths(["example"])


def test_pairs_are_found_from_the_documentation_alone() -> None:
    found = {(p.search.name, p.details.name, p.parameter) for p in discover_pairs(EXAMPLE)}
    assert ("searchRecipes", "getRecipeDetails", "recipe_id") in found
    assert ("Search Hotels", "Hotel Details", "hotel_id") in found
    assert ("Search Movies", "Movie Details", "movie_id") in found
    # A quote needs the symbol the profile needs: it lists nothing to ask about.
    assert not any(search == "Stock Quote" for search, _d, _p in found)


def _pair(search: str, details: str) -> CandidatePair:
    [pair] = [
        p
        for p in discover_pairs(EXAMPLE)
        if p.search.function_name == search and p.details.function_name == details
    ]
    return pair


def test_the_listed_entity_must_be_the_kind_of_thing_the_details_api_asks_for() -> None:
    pair = _pair("search_movies_for_reelradar", "movie_details_for_reelradar")
    listed = {"results": [{"id": "rr-1", "title": "Heat"}], "crew": [{"id": 7}]}
    assert first_entity(listed, pair) == ({"id": "rr-1", "title": "Heat"}, "id")
    # Exact ids of things of another kind (a cast member, a tag) are not movies.
    assert first_entity({"cast": [{"id": "p1", "name": "Al"}]}, pair) is None
    assert first_entity({"results": [{"movie_id": "rr-2"}]}, pair) == (
        {"movie_id": "rr-2"},
        "movie_id",
    )


def test_shared_facts_compare_each_field_once_and_the_identifier() -> None:
    item = {"id": "m1", "_id": "x9", "title": "Heat", "year": 1995, "cast": ["Al"]}
    details = {"data": {"id": "m1", "title": "HEAT ", "year": 1996, "runtime": 170}}
    facts = shared_facts(item, "id", details, "movie_id")
    assert facts == [("title", "Heat", "HEAT "), ("year", 1995, 1996), ("id -> id", "m1", "m1")]


@pytest.mark.parametrize("simulator", ["schema", "exemplar"])
def test_the_probe_on_the_example_suite_agrees_with_the_world_on(
    simulator: str, tmp_path: Path
) -> None:
    out = tmp_path / "probe.json"
    result = CliRunner().invoke(
        app, ["world", "probe", "--tools", "example", "--simulator", simulator, "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    on, off = report["world_on"], report["world_off"]
    assert on["pairs_probed"] >= 4 and on["agreeing"] == on["facts"] > 0
    assert off["agreeing"] < off["facts"]  # without the world, the two views disagree
    assert "searchRecipes -> getRecipeDetails" in result.output


@pytest.mark.slow
@pytest.mark.shared_data
def test_the_probe_finds_and_agrees_on_the_shared_groups(shared_data: Path, tmp_path: Path) -> None:
    queries = shared_data / "stabletoolbench" / "solvable_queries" / "test_instruction"
    out = tmp_path / "probe.json"
    result = CliRunner().invoke(
        app,
        ["world", "probe", "--tools", str(queries), "--simulator", "schema", "--json", str(out)],
    )
    assert result.exit_code == 0, result.output
    on = json.loads(out.read_text())["world_on"]
    assert on["pairs_probed"] >= 20
    assert on["agreeing"] >= 0.95 * on["facts"]

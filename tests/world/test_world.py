"""The world on misses: what is given to the simulator, what is reconciled, what is stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from toolsim.cache.entry import Reply, Source
from toolsim.cache.memory import MemoryBackend
from toolsim.cache.modes import CacheMode
from toolsim.catalog import Catalog
from toolsim.cli import app
from toolsim.server import ToolService
from toolsim.simulator.base import Simulation, SimulationRequest
from toolsim.world import World
from toolsim.world.store import TABLE

CATALOG = Catalog.from_paths(["example"])


class Scripted:
    """Answers with the next scripted response, and keeps every request it got."""

    name = "scripted"
    example_count = 0
    example_chars = 0

    def __init__(self, *responses: Any, source: Source = Source.SIMULATED) -> None:
        self.responses = list(responses)
        self.requests: list[SimulationRequest] = []
        self.source = source

    async def simulate(self, request: SimulationRequest) -> Simulation:
        self.requests.append(request)
        reply = Reply(error="", response=self.responses.pop(0))
        return Simulation(reply=reply, source=self.source, simulator=self.name)

    async def aclose(self) -> None:
        pass


def _service(simulator: Scripted, mode: CacheMode = CacheMode.RECORD) -> ToolService:
    backend = MemoryBackend()
    return ToolService(CATALOG, backend, simulator, mode, world=World(backend))


async def _call(service: ToolService, function: str, **arguments: Any) -> Any:
    return (await service.call(CATALOG.by_function(function), arguments)).reply.response


DETAILS = "movie_details_for_reelradar"
SEARCH = "search_movies_for_reelradar"
PLAYING = "now_playing_for_reelradar"


async def test_the_simulator_is_given_the_known_entity_and_its_reply_is_reconciled() -> None:
    simulator = Scripted(
        {"title": "Heat", "results": [{"id": "m1", "title": "Heat", "year": 1995}]},
        {"id": "zz", "title": "Cold", "year": 2001, "rating": 4.2, "genres": ["crime"]},
    )
    service = _service(simulator)
    await _call(service, SEARCH, title="Heat")
    details = await _call(service, DETAILS, movie_id="m1")
    [known] = simulator.requests[1].known
    assert (known.type, known.id, known.argument) == ("movie", "m1", "movie_id")
    assert known.facts == {"title": "Heat", "year": 1995}
    assert details == {
        "id": "m1",
        "title": "Heat",
        "year": 1995,
        "rating": 4.2,
        "genres": ["crime"],
    }
    stored = [entry for _key, entry in service.backend.items() if entry.api == "movie_details"]
    assert [c["path"] for c in stored[0].reconciled] == [
        "response.id",
        "response.title",
        "response.year",
    ]
    assert stored[0].reply.response == details  # what the agent saw is what is stored


async def test_known_ids_anywhere_in_a_reply_and_names_in_arguments() -> None:
    simulator = Scripted(
        {"id": "m1", "title": "Heat", "year": 1995},
        {"city": "Oslo", "showings": [{"movie_id": "m1", "title": "Hot", "cinema": "Ritz"}]},
        {"title": "heat", "results": [{"id": "x9", "title": "HEAT", "year": 2020}]},
    )
    service = _service(simulator)
    await _call(service, DETAILS, movie_id="m1")
    playing = await _call(service, PLAYING, city="Oslo")
    assert playing["showings"][0] == {"movie_id": "m1", "title": "Heat", "cinema": "Ritz"}
    found = await _call(service, SEARCH, title="heat")
    [known] = simulator.requests[2].known
    assert known.by_name and known.argument == "title"
    assert found["results"][0] == {"id": "m1", "title": "Heat", "year": 1995}


async def test_real_replies_are_never_reconciled_but_teach_the_world() -> None:
    simulator = Scripted(
        {"id": "m1", "title": "Heat", "year": 1995},
        {"id": "m1", "title": "Heat (1995)", "year": 1995},
        source=Source.REAL,
    )
    service = _service(simulator)
    await _call(service, DETAILS, movie_id="m1")
    assert (await _call(service, DETAILS, movie_id="m1", include_cast=True))[
        "title"
    ] == "Heat (1995)"
    record = service.world.lookup(["e\x1fMedia\x1freelradar\x1fm1"])  # type: ignore[union-attr]
    assert record["e\x1fMedia\x1freelradar\x1fm1"]["f:title"] == "Heat"  # the first statement


async def test_replay_serves_stored_replies_unchanged() -> None:
    simulator = Scripted({"id": "m1", "title": "Cold"}, {"id": "m1", "title": "Heat"})
    service = _service(simulator)
    await _call(service, DETAILS, movie_id="m1", include_cast=True)  # stored before the world knew
    await _call(service, SEARCH, title="x")  # a later reply says otherwise: not reconciled back
    service.mode = CacheMode.REPLAY
    service.memory.clear()
    assert (await _call(service, DETAILS, movie_id="m1", include_cast=True))["title"] == "Cold"


async def test_the_world_off_gives_nothing_and_changes_nothing() -> None:
    simulator = Scripted({"id": "m1", "title": "Heat"}, {"id": "m1", "title": "Cold"})
    service = ToolService(CATALOG, MemoryBackend(), simulator)
    await _call(service, SEARCH, title="Heat")
    assert (await _call(service, DETAILS, movie_id="m1"))["title"] == "Cold"
    assert simulator.requests[1].known == ()


def _reference_cache(root: Path) -> Path:
    folder = root / "Media" / "reelradar_for_Media"
    folder.mkdir(parents=True)
    reply = {"error": "", "response": {"results": [{"id": "m7", "title": "Ran", "year": 1985}]}}
    (folder / "search_movies.json").write_text(json.dumps({"{'title': 'Ran'}": reply}))
    return root


def test_imported_replies_feed_the_world_and_the_commands_show_it(tmp_path: Path) -> None:
    home = ["--home", str(tmp_path / "home")]
    runner = CliRunner()
    imported = runner.invoke(
        app, ["cache", "import", str(_reference_cache(tmp_path / "ref")), *home]
    )
    assert imported.exit_code == 0, imported.output
    shown = runner.invoke(app, ["world", "show", *home])
    assert shown.exit_code == 0, shown.output
    assert "1 entities with 2 facts" in shown.output and "imported" in shown.output
    exported = runner.invoke(app, ["world", "export", str(tmp_path / "w.json"), *home])
    assert exported.exit_code == 0, exported.output
    graph = json.loads((tmp_path / "w.json").read_text())
    [movie] = [node for node in graph["nodes"] if node.get("kind") == "entity"]
    assert movie["facts"] == {"title": "Ran", "year": 1985} and movie["type"] == "movie"
    [edge] = graph["edges"]
    assert (edge["role"], edge["reply_source"]) == ("reply", "imported")
    graphml = runner.invoke(
        app, ["world", "export", str(tmp_path / "w.graphml"), "--format", "graphml", *home]
    )
    assert graphml.exit_code == 0 and "fact.title" in (tmp_path / "w.graphml").read_text()
    bad = runner.invoke(app, ["world", "export", str(tmp_path / "w.x"), "--format", "dot", *home])
    assert bad.exit_code == 1 and "unknown export format" in bad.output


def test_rebuild_indexes_a_cache_filled_without_the_world(tmp_path: Path) -> None:
    from toolsim.cache.disk import DiskBackend

    home = tmp_path / "home"
    runner = CliRunner()
    env = {"TOOLSIM_WORLD": "false"}
    imported = runner.invoke(
        app,
        ["cache", "import", str(_reference_cache(tmp_path / "ref")), "--home", str(home)],
        env=env,
    )
    assert imported.exit_code == 0, imported.output
    backend = DiskBackend(home / "cache")
    assert list(backend.records_items(TABLE)) == []
    backend.close()
    rebuilt = runner.invoke(app, ["world", "rebuild", "--home", str(home), "--clear"])
    assert rebuilt.exit_code == 0 and "indexed 1 stored replies" in rebuilt.output
    backend = DiskBackend(home / "cache")
    names = [name for name, _record in backend.records_items(TABLE)]
    backend.close()
    assert "e\x1fMedia\x1freelradar\x1fm7" in names


@pytest.mark.parametrize("arguments", [{}, {"movie_id": ""}, {"movie_id": None}])
async def test_arguments_that_name_nothing_look_nothing_up(arguments: dict[str, Any]) -> None:
    world = World(MemoryBackend())
    assert world.known(CATALOG.by_function(DETAILS), arguments) == ()


async def test_the_subject_echoes_its_identifier_argument_before_anything_is_known() -> None:
    simulator = Scripted({"symbol": "north copper", "name": "Acme Corp", "price": 3.5})
    service = _service(simulator)
    quote = await _call(service, "stock_quote_for_market_pulse", symbol="ACME")
    assert quote == {"symbol": "ACME", "name": "Acme Corp", "price": 3.5}


async def test_an_object_with_id_and_underscore_id_is_found_by_either() -> None:
    item = {"_id": "64f0c2", "id": "m1", "title": "Heat", "year": 1995}
    simulator = Scripted(
        {"title": "Heat", "results": [item]},
        {"id": "zz", "title": "Cold", "year": 2001},
        {"id": "zz", "title": "Cold", "year": 2001},
    )
    service = _service(simulator)
    await _call(service, SEARCH, title="Heat")
    by_id = await _call(service, DETAILS, movie_id="m1")
    by_underscore_id = await _call(service, DETAILS, movie_id="64f0c2")
    assert [len(request.known) for request in simulator.requests[1:]] == [1, 1]
    assert by_id == by_underscore_id == {"id": "m1", "title": "Heat", "year": 1995}


async def test_an_external_id_is_a_fact_that_must_agree() -> None:
    simulator = Scripted(
        {"title": "Heat", "results": [{"id": "m1", "title": "Heat", "imdb_id": "tt0113277"}]},
        {"id": "m1", "title": "Heat", "imdb_id": "tt9999999", "runtime": 170},
    )
    service = _service(simulator)
    await _call(service, SEARCH, title="Heat")
    details = await _call(service, DETAILS, movie_id="m1")
    assert details["imdb_id"] == "tt0113277" and details["runtime"] == 170


async def test_the_schema_simulator_never_copies_the_asked_id_into_listed_children() -> None:
    from toolsim.catalog.models import ApiSpec, Parameter, ParamType
    from toolsim.simulator.base import SimulationRequest
    from toolsim.simulator.schema import SchemaSimulator

    album = ApiSpec(
        category="Music",
        tool_name="Tunes",
        name="Album",
        parameters=(Parameter("id", ParamType.STRING, required=True),),
        template_response={
            "id": "str",
            "name": "str",
            "tracks": [{"id": "str", "name": "str", "_list_length": 3}],
        },
    )
    request = SimulationRequest(api=album, arguments={"id": "al1"}, key="a" * 64)
    response = (await SchemaSimulator().simulate(request)).reply.response
    assert response["id"] == "al1"
    track_ids = [track["id"] for track in response["tracks"]]
    assert "al1" not in track_ids and len(set(track_ids)) == 3

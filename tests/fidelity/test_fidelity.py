"""``toolsim eval fidelity``: a simulator's replies against recorded ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolsim.cache.entry import Reply, Source
from toolsim.cache.keys import normalize_arguments
from toolsim.catalog import Catalog
from toolsim.cli import app
from toolsim.fidelity.measures import compare
from toolsim.fidelity.recorded import RecordedCall, read_recorded
from toolsim.fidelity.run import measure_fidelity
from toolsim.simulator.base import Simulation, SimulationRequest
from toolsim.simulator.template_filler import SchemaSimulator


class ReplayingSimulator:
    """Answers every call with the recorded reply: a perfect simulator."""

    name = "replaying"
    example_count = 0
    example_chars = 0

    def __init__(self, calls: list[RecordedCall], catalog: Catalog) -> None:
        self.replies = {}
        for call in calls:
            api = catalog.by_function(call.function)
            arguments = normalize_arguments(api, call.arguments)
            self.replies[(api.function_name, json.dumps(arguments, sort_keys=True))] = call.reply

    async def simulate(self, request: SimulationRequest) -> Simulation:
        key = (request.api.function_name, json.dumps(request.arguments, sort_keys=True))
        reply = self.replies[key]
        return Simulation(reply=reply, source=Source.SIMULATED, simulator=self.name, model="m")

    async def aclose(self) -> None:
        pass


def test_the_measures_of_identical_and_of_different_replies() -> None:
    same = Reply(response={"a": [{"b": 1, "c": "Lisbon"}]})
    assert compare(same, same) == {"outcome": 1.0, "keys": 1.0, "types": 1.0, "values": 1.0}
    other = Reply(response={"a": [{"b": "x", "d": "Porto"}]})
    scores = compare(same, other)
    assert scores["outcome"] == 1.0
    assert scores["keys"] == pytest.approx(2 / 4)  # a, a[].b shared of a, a[].b, a[].c, a[].d
    assert scores["types"] == pytest.approx(1 / 2)  # a is an array in both, a[].b is not a number
    assert scores["values"] == 0.0
    failed = compare(same, Reply(error="bad input", response=""))
    assert failed == {"outcome": 0.0, "keys": None, "types": None, "values": None}
    text = compare(Reply(response="Sunny in Lisbon"), Reply(response='{"sky": "sunny"}'))
    assert text["keys"] == 0.0 and text["values"] == pytest.approx(1 / 3)


@pytest.fixture
def shared(shared_data: Path) -> tuple[list[RecordedCall], Catalog, list[Path]]:
    example = shared_data / "stabletoolbench" / "data_example"
    paths = [example / "answer", example / "model_predictions_converted"]
    catalog = Catalog.from_paths(
        [str(shared_data / "stabletoolbench" / "solvable_queries" / "test_instruction")]
    )
    return list(read_recorded(paths, catalog).calls.values()), catalog, paths


async def test_a_simulator_that_returns_the_recorded_replies_scores_one(shared) -> None:
    calls, catalog, _paths = shared
    assert len(calls) >= 15
    report = await measure_fidelity(calls, catalog, ReplayingSimulator(calls, catalog))
    assert report.compared == len(calls) and report.failed == 0
    for name, score in report.overall.items():
        assert score.mean == 1.0, name
    assert all(scores["outcome"].mean == 1.0 for scores in report.per_api.values())


async def test_the_schema_simulators_numbers_are_stable_across_runs(shared) -> None:
    calls, catalog, _paths = shared
    first = (await measure_fidelity(calls, catalog, SchemaSimulator())).to_json()
    second = (await measure_fidelity(calls, catalog, SchemaSimulator())).to_json()
    first.pop("seconds"), second.pop("seconds")
    assert first == second
    assert first["simulator"] == "schema" and first["compared"] == len(calls)
    assert 0 < first["overall"]["keys"]["mean"] < 1  # a real measurement, not a constant


def test_the_command_names_simulator_model_and_prompt_hash(shared, tmp_path: Path) -> None:
    _calls, _catalog, paths = shared
    queries = paths[0].parents[1] / "solvable_queries" / "test_instruction"
    arguments = ["eval", "fidelity", "--simulator", "schema", "--tools", str(queries)]
    arguments += ["--out", str(tmp_path / "out"), "--home", str(tmp_path / "home"), "--limit", "5"]
    for path in paths:
        arguments += ["--recorded", str(path)]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "fidelity.json").read_text())
    assert {"simulator", "model", "prompt_hash"} <= set(report)
    assert report["compared"] == 5 and "fidelity of simulator schema" in result.output


def test_a_reference_cache_folder_is_read_with_the_catalog(tmp_path: Path) -> None:
    folder = tmp_path / "tool_response_cache" / "Weather" / "skycast_weather_for_Weather"
    folder.mkdir(parents=True)
    reply = {"error": "", "response": {"city": "Oslo", "temperature": 3.5}}
    (folder / "current_weather.json").write_text(json.dumps({"{'city': 'Oslo'}": reply}))
    recorded = read_recorded([tmp_path / "tool_response_cache"], Catalog.from_paths(["example"]))
    [call] = recorded.calls.values()
    assert call.function == "current_weather_for_skycast_weather"
    assert call.arguments == {"city": "Oslo"} and call.reply.response["temperature"] == 3.5


def test_nothing_recorded_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty.json").write_text("{}")
    result = CliRunner().invoke(
        app,
        ["eval", "fidelity", "--recorded", str(tmp_path / "empty.json"), "--out", str(tmp_path)],
    )
    assert result.exit_code == 1 and "no recorded tool calls" in result.output


async def test_a_failed_simulation_counts_as_an_error_reply() -> None:
    from toolsim.errors import UpstreamError

    class Failing(ReplayingSimulator):
        async def simulate(self, request: SimulationRequest) -> Simulation:
            raise UpstreamError("the model did not answer within 120 s")

    catalog = Catalog.from_paths(["example"])
    ok = Reply(response={"city": "Oslo"})
    calls = [
        RecordedCall("current_weather_for_skycast_weather", {"city": "Oslo"}, ok, "a"),
        RecordedCall(
            "air_quality_index_for_skycast_weather", {"city": "Oslo"}, Reply(error="x"), "b"
        ),
    ]
    report = await measure_fidelity(calls, catalog, Failing([], catalog))
    assert report.failed == 2 and report.compared == 2
    assert report.overall["outcome"].mean == 0.5  # the recorded error agrees, the success not
    assert report.overall["keys"].n == 0
    assert all(row["simulator_failed"] for row in report.calls)


def test_a_run_folder_is_read_through_its_answers_not_its_manifest_or_records(tmp_path):
    from answers.converted_files import entry, record, write_run

    steps = [("current_weather_for_skycast_weather", {"city": "Oslo"}, {"temp": 3})]
    answers = {"1": entry("weather in Oslo?", "3 degrees", steps=steps)}
    run = write_run(tmp_path / "run", "G", answers, {"1": record("1", "G")})
    found = read_recorded([tmp_path])
    assert found.problems == [] and found.files == 1
    [call] = found.calls.values()
    assert call.arguments == {"city": "Oslo"} and call.origin == f"{run}/converted/G.json#1"


def test_pass_rate_steps_that_are_not_literals_are_problems(tmp_path: Path) -> None:
    call = {"name": "f_for_x", "arguments": '{"a": 1}', "response": {"error": "", "response": "ok"}}
    step = repr(call)
    steps = f"Step 1: {step}\nStep 2: {{'name': broken\nStep 3: [1, 2]\nStep 4: {step}\n"
    path = tmp_path / "G1_instruction.json"
    path.write_text(json.dumps({"7": {"answer_steps": steps}}))
    found = read_recorded([path])
    assert [call.function for call in found.calls.values()] == ["f_for_x"]
    assert found.calls[("f_for_x", '{"a": 1}')].reply == Reply(error="", response="ok")
    # the broken step is one problem; a literal that is not a dict is skipped silently
    assert found.problems == [f"{path}#7: a step that is not a Python literal"]

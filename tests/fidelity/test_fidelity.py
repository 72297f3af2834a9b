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
from toolsim.fidelity.measures import (
    bleu_available,
    bleu_of_sums,
    bleu_stats,
    compare,
    corpus_bleu,
    response_text,
)
from toolsim.fidelity.recorded import RecordedCall, read_recorded
from toolsim.fidelity.run import measure_fidelity
from toolsim.simulator.base import Simulation, SimulationRequest
from toolsim.simulator.schema import SchemaSimulator


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
    assert scores["keys"] == pytest.approx(2 * 2 / 6)  # F1: a, a[].b shared; 3 paths each
    assert scores["types"] == pytest.approx(2 / 3)  # the root and a agree, a[].b is not a number
    assert scores["values"] == 0.0
    # No data where the recorded reply had some: zero on every data measure.
    failed = compare(same, Reply(error="bad input", response=""))
    assert failed == {"outcome": 0.0, "keys": 0.0, "types": 0.0, "values": 0.0}
    # A recorded error: only the outcome says anything.
    assert compare(Reply(error="bad input"), same) == {
        "outcome": 0.0,
        "keys": None,
        "types": None,
        "values": None,
    }
    text = compare(Reply(response="Sunny in Lisbon"), Reply(response='{"sky": "sunny"}'))
    assert text["keys"] == 0.0 and text["types"] == 0.0 and text["values"] == pytest.approx(1 / 3)


def test_a_constant_empty_object_cannot_score_on_keys_or_values() -> None:
    empty = Reply(response={})
    prose = Reply(response="The phone number is valid and registered in New York.")
    assert compare(prose, empty)["keys"] == 0.0 and compare(prose, empty)["values"] == 0.0
    assert compare(Reply(response={"a": 1}), empty)["keys"] == 0.0
    # Two prose replies have the same shape; an empty object answered by one is right.
    assert compare(prose, Reply(response="Not valid."))["keys"] == 1.0
    assert compare(empty, Reply(response={}))["keys"] == 1.0
    assert compare(Reply(response=[]), empty)["keys"] == 0.0


def test_python_literal_replies_are_compared_as_the_data_they_hold() -> None:
    literal = Reply(response="{'success': True, 'data': {'city': 'Oslo', 'temp': None}}")
    data = Reply(response={"success": True, "data": {"city": "Oslo", "temp": None}})
    assert compare(literal, data) == {"outcome": 1.0, "keys": 1.0, "types": 1.0, "values": 1.0}
    assert response_text(literal.response) == response_text(data.response)


@pytest.mark.skipif(not bleu_available(), reason="sacrebleu is not installed")
def test_bleu_is_sacrebleus_corpus_score_from_per_call_statistics() -> None:
    from sacrebleu.metrics import BLEU

    pairs = [
        ({"city": "Oslo", "temp": 3}, {"city": "Oslo", "temp": 4}),
        ("The number is valid.", "The number is not valid."),
        ({"results": [{"title": "Heat"}]}, {"results": []}),
    ]
    stats = [bleu_stats(Reply(response=real), Reply(response=fake)) for real, fake in pairs]
    expected = BLEU().corpus_score(
        [response_text(fake) for _real, fake in pairs], [[response_text(r) for r, _f in pairs]]
    )
    assert corpus_bleu(stats) == pytest.approx(expected.score)
    assert bleu_stats(Reply(error="rate limited"), Reply(response="x")) is None
    # A simulated error where the real API answered is an empty text: a brevity penalty.
    [failed] = [bleu_stats(Reply(response="data"), Reply(error="boom"))]
    assert failed is not None and failed[2] == 0 and corpus_bleu([failed]) == 0.0


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
        expected = 100.0 if name == "bleu" else 1.0
        assert score.mean is None or score.mean == pytest.approx(expected), name
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
    assert report.overall["keys"].n == 1 and report.overall["keys"].mean == 0.0  # no data given
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


@pytest.mark.skipif(not bleu_available(), reason="sacrebleu is not installed")
def test_the_vectorised_corpus_formula_is_sacrebleus() -> None:
    import random

    import numpy as np
    from sacrebleu.metrics import BLEU

    rnd = random.Random(1)
    rows, expected = [], []
    for _ in range(2000):
        total = [rnd.randint(0, 30) for _ in range(4)]
        correct = [rnd.randint(0, t) if rnd.random() < 0.7 else 0 for t in total]
        lengths = [rnd.randint(0, 40), rnd.randint(0, 40)]
        rows.append([*correct, *total, *lengths])
        score = BLEU.compute_bleu(list(correct), list(total), *lengths, smooth_method="exp")
        expected.append(score.score)
    assert bleu_of_sums(np.array(rows, dtype=float)) == pytest.approx(expected, abs=1e-9)

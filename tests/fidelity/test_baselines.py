"""Fidelity's baselines, scopes, leave-one-out mode and split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolsim.cache.entry import Reply
from toolsim.catalog import Catalog
from toolsim.cli import app
from toolsim.fidelity.recorded import RecordedCall
from toolsim.fidelity.run import in_test_split, measure_fidelity
from toolsim.fidelity.scores import BASELINES
from toolsim.simulator.base import Simulation, SimulationRequest
from toolsim.simulator.exemplar import ExemplarSimulator
from toolsim.simulator.schema import SchemaSimulator

CATALOG = Catalog.from_paths(["example"])
WEATHER = "current_weather_for_skycast_weather"
AIR = "air_quality_index_for_skycast_weather"


def _weather(city: str, temperature: float) -> RecordedCall:
    reply = Reply(response={"city": city, "temperature": temperature, "summary": f"Mild in {city}"})
    return RecordedCall(WEATHER, {"city": city}, reply, f"file#{city}")


CALLS = [
    _weather("Oslo", 3.5),
    _weather("Tokyo", 21.0),
    _weather("Lima", 18.5),
    RecordedCall(AIR, {"city": "Delhi"}, Reply(response={"city": "Delhi", "aqi": 170}), "f#d"),
]


class Spy(ExemplarSimulator):
    """The exemplar simulator, keeping every request it was handed."""

    def __init__(self) -> None:
        super().__init__(fallback=SchemaSimulator())
        self.requests: list[SimulationRequest] = []

    async def simulate(self, request: SimulationRequest) -> Simulation:
        self.requests.append(request)
        return await super().simulate(request)


async def test_leave_one_out_never_hands_over_the_call_being_scored() -> None:
    spy = Spy()
    report = await measure_fidelity(CALLS, CATALOG, spy, leave_one_out=True)
    assert report.compared == 4 and report.leave_one_out
    for request in spy.requests:
        assert request.key not in {key for key, _entry in request.exemplars}
    by_city = {r.arguments["city"]: r for r in spy.requests}
    assert len(by_city["Oslo"].exemplars) == 2  # Tokyo and Lima, never Oslo itself
    assert by_city["Delhi"].exemplars == ()  # the only recorded call of its API: the schema answers
    oslo = next(row for row in report.calls if row["arguments"] == {"city": "Oslo"})
    # Adapted from another city: the city and the summary's echo follow the call.
    assert oslo["scores"]["simulator"]["keys"] == 1.0
    assert oslo["scores"]["simulator"]["values"] > oslo["scores"]["same_api"]["values"]


async def test_without_leave_one_out_a_simulator_gets_no_exemplars() -> None:
    spy = Spy()
    await measure_fidelity(CALLS, CATALOG, spy)
    assert all(request.exemplars == () for request in spy.requests)


async def test_every_report_scores_the_baselines_on_the_same_calls() -> None:
    report = await measure_fidelity(CALLS, CATALOG, Spy(), leave_one_out=True)
    everything, with_other = report.scopes["all"], report.scopes["with_other"]
    assert (everything["n"], with_other["n"]) == (4, 3)  # Delhi's API has no other reply
    assert set(everything["rows"]) == {"simulator", *BASELINES}
    rows = with_other["rows"]
    assert all(rows[name]["outcome"].n == 3 for name in rows)
    assert rows["empty"]["keys"].mean == 0.0 and rows["empty"]["values"].mean == 0.0
    assert rows["same_api"]["keys"].mean == 1.0  # another city's reply has the same shape
    # The same-API baseline is undefined on Delhi: not compared in the all-calls scope.
    assert everything["rows"]["same_api"]["outcome"].n == 3
    assert with_other["wins"]["values"] is True and with_other["wins"]["keys"] is False


async def test_a_split_by_api_keeps_the_test_apis_apart() -> None:
    tune = await measure_fidelity(CALLS, CATALOG, SchemaSimulator(), split="tune", test_share=0.5)
    test = await measure_fidelity(CALLS, CATALOG, SchemaSimulator(), split="test", test_share=0.5)
    functions = {row["function"] for row in tune.calls}, {row["function"] for row in test.calls}
    assert functions[0].isdisjoint(functions[1])
    assert tune.compared + test.compared == 4
    assert all(in_test_split(f, 0.5) for f in functions[1])
    assert not any(in_test_split(f, 0.5) for f in functions[0])


@pytest.mark.slow
@pytest.mark.shared_data
def test_the_command_prints_both_scopes_with_their_baselines(
    shared_data: Path, tmp_path: Path
) -> None:
    queries = shared_data / "stabletoolbench" / "solvable_queries" / "test_instruction"
    labels = shared_data / "judge-labels" / "toolllama_sft_cot" / "G1_instruction.json"
    result = CliRunner().invoke(
        app,
        [
            "eval", "fidelity", "--recorded", str(labels), "--tools", str(queries),
            "--simulator", "exemplar", "--leave-one-out", "--split", "tune",
            "--out", str(tmp_path / "out"), "--home", str(tmp_path / "home"),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "calls whose API has another recorded reply" in result.output
    for description in BASELINES.values():
        assert description in result.output
    report = json.loads((tmp_path / "out" / "fidelity.json").read_text())
    assert report["leave_one_out"] and report["split"] == "tune"
    assert set(report["scopes"]) == {"all", "with_other"}

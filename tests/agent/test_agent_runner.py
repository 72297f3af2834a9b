"""Running many queries: isolation of failures, time limits, resuming, interruption."""

from __future__ import annotations

import asyncio
import sys

import pytest
from agent_support import call, finish, load, steps_done, task_of

from toolsim.agent import RunConfig, run_queries
from toolsim.agent.runner import gate_factory_for
from toolsim.errors import UserError

WEATHER = "current_weather_for_skycast_weather"
FX = "convertcurrency_for_quick_fx_rates"


def answer_all(request):
    return finish(f"answer to: {task_of(request)[:20]}")


def files(out, query_id, method="CoT@1"):
    return [
        out / f"answer/example/{query_id}_{method}.json",
        out / f"records/example/{query_id}.json",
    ]


async def test_one_query_raising_never_stops_the_run(run, model, tmp_path):
    def policy(request):
        if "250 US dollars" in task_of(request):  # query 3
            raise RuntimeError("backend exploded")
        return answer_all(request)

    model.policy = policy
    summary = await run(ids=("1", "3", "5"))

    assert summary.statuses == {"answered": 2, "failed": 1}
    record = load(tmp_path / "out/records/example/3.json")
    assert record["status"] == "failed" and "backend exploded" in record["error"]
    converted = load(tmp_path / "out/converted/example.json")
    assert sorted(converted) == ["1", "3", "5"]
    assert load(tmp_path / "out/run.json")["finished"] is not None


async def test_a_slow_query_times_out_and_keeps_its_steps(run, model, tmp_path):
    never = asyncio.Event()

    async def policy(request):
        if steps_done(request) == 0:
            return call(WEATHER, city="Lisbon")
        await never.wait()  # the model never answers the second step

    model.policy = policy
    await run(query_timeout=0.5)

    record = load(tmp_path / "out/records/example/1.json")
    assert record["status"] == "timeout" and "0.5 s" in record["error"]
    assert [c["function"] for c in record["calls"]] == [WEATHER]
    chain = load(tmp_path / "out/answer/example/1_CoT@1.json")["trys"][0]["chain"]
    assert chain[-1]["description"] == '{"city": "Lisbon"}'


async def test_a_rerun_skips_finished_queries_and_redoes_failed_ones(run, model, tmp_path):
    def first(request):
        if "250 US dollars" in task_of(request):
            raise RuntimeError("transient")
        return answer_all(request)

    model.policy = first
    await run(ids=("1", "3"))
    model.requests.clear()
    model.policy = answer_all

    summary = await run(ids=("1", "3", "5"))

    asked = {task_of(r)[6:26] for r in model.requests}
    assert len(asked) == 2 and not any("Lisbon" in t for t in asked)
    assert summary.skipped == 1 and summary.statuses == {"answered": 2}
    assert load(tmp_path / "out/records/example/3.json")["status"] == "answered"
    assert sorted(load(tmp_path / "out/converted/example.json")) == ["1", "3", "5"]
    manifest = load(tmp_path / "out/run.json")
    assert "resumed" in manifest and manifest["finished"] is not None


async def test_a_rerun_asks_the_model_nothing_new(run, model, tmp_path, settings):
    model.policy = answer_all
    await run(ids=("1",))
    before = load(tmp_path / "out/answer/example/1_CoT@1.json")

    # A fresh folder with the same inputs: replies come from the model cache.
    await run(ids=("1",), out=tmp_path / "again")

    assert len(model.requests) == 1
    assert load(tmp_path / "again/answer/example/1_CoT@1.json") == before


async def test_cancelling_a_run_leaves_finished_files_valid(run, model, tmp_path):
    blocked = asyncio.Event()
    never = asyncio.Event()

    async def policy(request):
        if "250 US dollars" in task_of(request):
            blocked.set()
            await never.wait()
        return answer_all(request)

    model.policy = policy
    running = asyncio.create_task(run(ids=("1", "3"), concurrency=1))
    await blocked.wait()
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running

    out = tmp_path / "out"
    assert all(path.is_file() for path in files(out, "1"))
    assert not any(path.exists() for path in files(out, "3"))
    assert list(load(out / "converted/example.json")) == ["1"]
    assert not list(out.rglob("*.tmp"))
    assert load(out / "run.json")["finished"] is None

    model.requests.clear()
    model.policy = answer_all
    summary = await run(ids=("1", "3"))
    assert summary.skipped == 1 and len(model.requests) == 1


async def test_a_folder_of_another_kind_of_run_is_refused(run, model, tmp_path):
    model.policy = answer_all
    await run(ids=("1",))

    with pytest.raises(UserError, match="agent='cot'"):
        await run(agent="dfsdt", ids=("1",))
    with pytest.raises(UserError, match="budget"):
        await run(ids=("1",), budget=3)


async def test_bad_configuration_is_a_user_error(settings, tmp_path):
    def config(**options):
        return RunConfig(**{"queries": ["example"], "out": tmp_path / "x"} | options)

    with pytest.raises(UserError, match="unknown agent 'react'; available: cot, dfsdt"):
        await run_queries(config(agent="react"), settings)
    with pytest.raises(UserError, match="no query 'example:99'"):
        await run_queries(config(query_ids=["example:99"]), settings)
    with pytest.raises(UserError, match="no such file"):
        await run_queries(config(queries=[tmp_path / "missing.json"]), settings)
    with pytest.raises(UserError, match="unknown action mode"):
        await run_queries(config(action_mode="telepathy"), settings)
    with pytest.raises(UserError, match="--server must be an http"):
        await run_queries(config(server="ftp://x"), settings)


async def test_unsafe_query_ids_never_become_paths(settings, tmp_path):
    hostile = tmp_path / "G1_evil.json"
    hostile.write_text('[{"query_id": "../../etc", "query": "x", "api_list": []}]')

    with pytest.raises(UserError, match="cannot be used as a file name"):
        await run_queries(RunConfig(queries=[hostile], out=tmp_path / "x"), settings)


def test_an_import_error_of_the_planner_package_surfaces(settings, tmp_path, monkeypatch):
    # toolsim's own planners failing to import is a bug: never turned into "not available".
    monkeypatch.setitem(sys.modules, "toolsim.planner", None)
    config = RunConfig(queries=["example"], out=tmp_path / "x", planner="btp")
    with pytest.raises(ModuleNotFoundError, match="toolsim.planner"):
        gate_factory_for(config, settings)

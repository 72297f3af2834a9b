"""Parallel tool calls: every call of one reply runs, in order, each gated and its own step."""

from __future__ import annotations

import pytest
from agent_support import finish, load, parallel, steps_done

from toolsim.agent import AgentLimits
from toolsim.budget import CostTable

WEATHER = "current_weather_for_skycast_weather"
FORECAST = "get_5_day_forecast_for_skycast_weather"
AIR = "air_quality_index_for_skycast_weather"


def both_then_finish(request):
    if steps_done(request) == 0:
        return parallel(
            (WEATHER, {"city": "Lisbon"}), (FORECAST, {"city": "Lisbon"}), thought="Both."
        )
    return finish("Sunny all week")


@pytest.mark.parametrize("agent", ["cot", "dfsdt"])
async def test_every_call_runs_and_returns_under_its_id(run, model, tmp_path, agent):
    model.policy = both_then_finish

    summary = await run(agent=agent)

    assert summary.statuses == {"answered": 1}
    record = load(tmp_path / "out/records/example/1.json")
    assert [(c["function"], c["turn"], c["error"]) for c in record["calls"]] == [
        (WEATHER, 0, ""),
        (FORECAST, 0, ""),
    ]
    # One assistant message with both calls, then both results, each under its call's id.
    follow_up = model.requests[-1].messages
    assistant = [m for m in follow_up if m["role"] == "assistant"]
    assert len(assistant) == 1 and assistant[0]["content"] == "Both."
    ids = [c["id"] for c in assistant[0]["tool_calls"]]
    assert [c["function"]["name"] for c in assistant[0]["tool_calls"]] == [WEATHER, FORECAST]
    assert [m["tool_call_id"] for m in follow_up if m["role"] == "tool"] == ids
    assert len(set(ids)) == 2
    # In the answer files each call is its own step.
    converted = load(tmp_path / "out/converted/example.json")["1"]["answer"]
    node, names = converted["answer_details"][0], []
    while node["next"]:
        node = node["next"][0]
        names.append(node["message"]["name"] if node["role"] == "tool" else node["role"])
    assert names == ["user", "assistant", WEATHER, FORECAST, "Finish"]
    assert converted["total_steps"] == 6
    method = "CoT@1" if agent == "cot" else "DFS_woFilter_w2"
    raw = load(tmp_path / f"out/answer/example/1_{method}.json")
    calls = [m for m in raw["answer_generation"]["train_messages"][-1] if "function_call" in m]
    assert [m["function_call"]["name"] for m in calls] == [WEATHER, FORECAST, "Finish"]


async def test_the_budget_gate_checks_each_call(run, model, tmp_path):
    model.policy = both_then_finish

    await run(budget=5, costs=CostTable({WEATHER: 4, FORECAST: 4}))

    record = load(tmp_path / "out/records/example/1.json")
    assert [(c["function"], c["rejected"], c["cost"]) for c in record["calls"]] == [
        (WEATHER, None, 4),
        (FORECAST, "over_budget", 0),
    ]
    assert record["cost"] == 4 and not record["over_budget"]


async def test_calls_after_finish_are_not_made(run, model, tmp_path):
    model.policy = lambda request: parallel(
        ("Finish", {"return_type": "give_answer", "final_answer": "Sunny"}),
        (WEATHER, {"city": "Lisbon"}),
    )

    summary = await run(limits=AgentLimits(max_steps=3))

    assert summary.statuses == {"answered": 1}
    assert load(tmp_path / "out/records/example/1.json")["calls"] == []

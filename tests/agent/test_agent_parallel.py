"""Parallel tool calls: every call of one reply runs, in order, each gated and its own step."""

from __future__ import annotations

import pytest
from agent_support import finish, load, parallel, steps_done

from toolsim.agent import AgentLimits, actions
from toolsim.agent.trajectory import Action, Step
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


def _chain(calls_per_reply: list[int]) -> list[Step]:
    parent: Step | None = None
    steps: list[Step] = []
    for reply, calls in enumerate(calls_per_reply):
        for batch in range(calls):
            n = len(steps) + 1
            action = Action(f"f{n}", "{}", {}, thought=f"t{n}" if batch == 0 else "")
            note = f"note {reply}" if batch == 0 and reply else ""
            parent = Step(action, f"o{n}", 0, parent, note=note, batch=batch)
            steps.append(parent)
    return steps


def _shape(messages: list[dict]) -> list[str]:
    return [
        m["role"]
        + "".join(f" {c['id']}" for c in m.get("tool_calls", ()))
        + (f" {m['tool_call_id']}" if "tool_call_id" in m else "")
        for m in messages[2:]
    ]


def test_a_replys_calls_share_one_assistant_message_their_results_after_it():
    steps = _chain([1, 3, 2])
    view = actions.View(query="q", path=steps, offered=())
    request = actions.build(view, actions.ActionMode.TOOLS)
    assert _shape(request["messages"]) == [
        "assistant call_1",
        "tool call_1",
        "user",
        "assistant call_2 call_3 call_4",
        "tool call_2",
        "tool call_3",
        "tool call_4",
        "user",
        "assistant call_5 call_6",
        "tool call_5",
        "tool call_6",
    ]
    # Trimmed so that a later call of a reply comes first: the rest of that reply joins it.
    trimmed = actions._messages(view, actions.ActionMode.TOOLS, "s", steps[2:], 2, True)
    assert _shape(trimmed) == [
        "user",
        "assistant call_3 call_4",
        "tool call_3",
        "tool call_4",
        "user",
        "assistant call_5 call_6",
        "tool call_5",
        "tool call_6",
    ]

"""The CoT agent and the steps it is made of, driven by the scripted model."""

from __future__ import annotations

import json

import pytest
from agent_support import call, finish, load, notes, offered, steps_done, text

from toolsim.agent import AgentLimits
from toolsim.agent.actions import ActionMode, View, build
from toolsim.agent.queries import load_queries
from toolsim.errors import UpstreamError
from toolsim.llm import ChatReply, RequestRejected, ToolCall

WEATHER = "current_weather_for_skycast_weather"
FORECAST = "get_5_day_forecast_for_skycast_weather"


async def test_a_successful_chain_calls_tools_and_finishes(run, model, tmp_path):
    def policy(request):
        done = steps_done(request)
        if done == 0:
            return call(WEATHER, "Check the weather first.", city="Lisbon")
        if done == 1:
            return call(FORECAST, city="Lisbon")
        return finish("Sunny, 24 C; then five warm days.", "I know enough.")

    model.policy = policy
    summary = await run()

    out = tmp_path / "out"
    record = load(out / "records/example/1.json")
    assert summary.statuses == {"answered": 1}
    assert record["status"] == "answered"
    assert record["final_answer"] == "Sunny, 24 C; then five warm days."
    assert [c["function"] for c in record["calls"]] == [WEATHER, FORECAST]
    assert record["calls"][0]["arguments"] == {"city": "Lisbon"}
    assert record["calls"][0]["source"] == "simulated"
    assert record["model_calls"] == 3 and record["tool_calls"] == 2 and record["cost"] == 2
    assert record["prompt_tokens"] == 30 and record["completion_tokens"] == 15
    # The model saw the first observation: the schema simulator's reply for Lisbon.
    third = model.requests[2].messages
    tool_results = [m for m in third if m["role"] == "tool"]
    assert len(tool_results) == 2 and '"city": "Lisbon"' in tool_results[0]["content"]
    # Offered: the query's four APIs and Finish, as native tools (scripted backend: not local).
    assert offered(model.requests[0])[-1] == "Finish" and len(offered(model.requests[0])) == 5
    raw = load(out / "answer/example/1_CoT@1.json")
    generation = raw["answer_generation"]
    assert generation["valid_data"] is True
    assert json.loads(generation["final_answer"])["final_answer"].startswith("Sunny")
    assert generation["query_count"] == 3 and generation["total_tokens"] == 45
    assert len(generation["train_messages"]) == 3
    kinds = [node["node_type"] for node in raw["trys"][0]["chain"]]
    assert kinds == ["Thought", "Action", "Action Input", "Action", "Action Input"] + [
        "Thought",
        "Action",
        "Action Input",
    ]
    entry = load(out / "converted/example.json")["1"]
    assert entry["answer"]["method"] == "CoT@1"
    assert entry["answer"]["final_answer"] == generation["final_answer"]


async def test_a_chain_stops_after_twelve_steps(run, model, tmp_path):
    model.policy = lambda request: call(WEATHER, city=f"City {steps_done(request)}")

    await run()

    record = load(tmp_path / "out/records/example/1.json")
    assert record["status"] == "no_answer"
    assert record["model_calls"] == 12 and record["tool_calls"] == 12
    assert "12 steps" in record["error"]
    chain = load(tmp_path / "out/answer/example/1_CoT@1.json")["trys"][0]["chain"]
    assert chain[-1]["pruned"] is True
    assert load(tmp_path / "out/converted/example.json")["1"]["answer"]["final_answer"] == ""


async def test_malformed_output_is_retried_then_a_failed_step(run, model, tmp_path):
    replies = iter(
        [
            text("I think I should call the weather API."),  # no call
            ChatReply(content=None, tool_calls=(ToolCall(WEATHER, "{city: Lisbon"),)),  # bad JSON
            call(WEATHER, city="Lisbon"),  # third attempt works
            text("still no call"),
            text("still no call"),
            text("still no call"),
        ]
    )
    model.policy = lambda request: next(replies)

    await run()

    record = load(tmp_path / "out/records/example/1.json")
    assert record["status"] == "failed"
    assert record["model_calls"] == 6 and record["failed_model_calls"] == 5
    assert record["tool_calls"] == 1
    assert record["failed_steps"] == [
        {"depth": 2, "sibling": 0, "error": "the model called no function"}
    ]
    # Retries are distinct requests (so each is cached apart) at a higher temperature.
    first_step = model.requests[:3]
    assert [r.sample for r in first_step] == [0, 1, 2]
    assert first_step[0].temperature == 0 and first_step[1].temperature > 0
    assert len({r.seed for r in first_step}) == 3


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        # The endpoint failed (after its retries): the world failed the agent.
        (UpstreamError("HTTP 500 after 6 retries", retries=6, waited=12.5), "infrastructure"),
        # The endpoint refused this very request (a context too long): the agent's failure.
        (RequestRejected("HTTP 400 after 6 retries", retries=6, waited=12.5), "failed"),
    ],
)
async def test_a_failed_model_call_is_not_sampled_again(run, model, tmp_path, failure, status):
    # The client already re-sent it unchanged (its retries are in the error): a new sample
    # would change the trajectory without helping a model that cannot answer.
    replies = iter([failure])
    model.policy = lambda request: next(replies)

    await run()

    record = load(tmp_path / "out/records/example/1.json")
    assert record["status"] == status
    assert "after 6 retries" in record["error"]
    assert record["model_calls"] == 1 and record["failed_model_calls"] == 1
    assert (record["model_retries"], record["model_retry_seconds"]) == (6, 12.5)
    assert len(model.requests) == 1


async def test_finish_needs_an_answer_or_a_give_up(run, model, tmp_path):
    replies = iter([call("Finish", return_type="give_answer", final_answer=" "), finish("ok")])
    model.policy = lambda request: next(replies)

    await run()

    record = load(tmp_path / "out/records/example/1.json")
    assert record["status"] == "answered" and record["failed_model_calls"] == 1


async def test_an_unknown_function_gets_an_error_observation(run, model, tmp_path):
    def policy(request):
        if steps_done(request) == 0:
            return call("made_up_function", x=1)
        return finish("gave what I could")

    model.policy = policy
    await run()

    record = load(tmp_path / "out/records/example/1.json")
    assert record["calls"][0]["rejected"] == "unknown" and record["cost"] == 0
    assert record["tool_calls"] == 0 and record["rejected_calls"] == 1
    seen = [m for m in model.requests[1].messages if m["role"] == "tool"][0]["content"]
    assert "no function named 'made_up_function'" in seen


async def test_json_mode_offers_one_schema_per_function(run, model, tmp_path):
    def policy(request):
        assert not request.tools
        assert "Functions (* = required argument):" in request.messages[0]["content"]
        if steps_done(request) == 0:
            action = {"thought": "t", "function": WEATHER, "arguments": {"city": "Oslo"}}
        else:
            action = {"thought": "", "function": "Finish", "arguments": {"final_answer": "Cold"}}
        return ChatReply(content=json.dumps(action))

    model.policy = policy
    await run(action_mode="json")

    record = load(tmp_path / "out/records/example/1.json")
    assert record["status"] == "answered" and record["final_answer"] == "Cold"
    assert offered(model.requests[0]) == [
        "current_weather_for_skycast_weather",
        "get_5_day_forecast_for_skycast_weather",
        "air_quality_index_for_skycast_weather",
        "latestrates_for_quick_fx_rates",
        "Finish",
    ]
    weather = model.requests[0].response_format["json_schema"]["schema"]["anyOf"][0]
    assert weather["properties"]["arguments"]["required"] == ["city"]
    # The second request shows the first action and its result as messages.
    assert notes(model.requests[1]) == []
    assert model.requests[1].messages[-1]["content"].startswith(f"Result of {WEATHER}:")


async def test_observations_are_cut(run, model, tmp_path):
    def policy(request):
        if steps_done(request) == 0:
            return call(FORECAST, city="Lisbon", include_hourly=True)
        return finish("ok")

    model.policy = policy
    await run(limits=AgentLimits(observation_chars=100))

    seen = [m for m in model.requests[1].messages if m["role"] == "tool"][0]["content"]
    assert len(seen) == 100


def test_a_long_conversation_is_trimmed_to_the_context():
    from toolsim.agent.trajectory import Action, Step

    _, (query,) = load_queries(["example"], ["1"])
    parent = None
    for depth in range(8):
        action = Action(WEATHER, '{"city": "Oslo"}', {"city": "Oslo"}, thought=f"step {depth}")
        parent = Step(action, "x" * 1000, 0, parent)
    view = View(query.text, parent.path(), query.apis)

    full = build(view, ActionMode.JSON)["messages"]
    trimmed = build(view, ActionMode.JSON, context_chars=6000)["messages"]

    assert len(json.dumps(full)) > 8000
    assert len(json.dumps(trimmed)) <= 6000
    assert "earlier steps left out" in trimmed[2]["content"]
    # The newest step is kept whole.
    assert trimmed[-1]["content"].endswith("x" * 1000)

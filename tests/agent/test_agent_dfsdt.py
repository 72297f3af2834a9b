"""The DFSDT agent: backtracking, sibling diversity, the model-call limit, the output tree."""

from __future__ import annotations

import json

from agent_support import call, finish, give_up, load, notes, steps_done

from toolsim.agent import AgentLimits

WEATHER = "current_weather_for_skycast_weather"
FORECAST = "get_5_day_forecast_for_skycast_weather"
AIR = "air_quality_index_for_skycast_weather"


async def test_give_up_backtracks_and_the_sibling_is_told_to_differ(run, model, tmp_path):
    # First chain: weather, then give up. Back at the weather node, its second child is
    # told what was tried; it calls the forecast and then answers.
    def policy(request):
        done = steps_done(request)
        said = notes(request)
        if done == 0:
            return call(WEATHER, city="Lisbon")
        if done == 1 and not said:
            return give_up()
        if done == 1:
            return call(FORECAST, city="Lisbon")
        return finish("Warm all week")

    model.policy = policy
    summary = await run(agent="dfsdt")

    assert summary.statuses == {"answered": 1}
    diverse = [r for r in model.requests if notes(r)]
    # Asked with the note last; then the note stays in that branch's history.
    assert len(diverse) == 2 and diverse[0].messages[-1]["role"] == "user"
    note = diverse[0].messages[-1]["content"]
    assert notes(diverse[1]) == [note]
    assert "Finish(" in note and "gave up" in note and "different" in note
    record = load(tmp_path / "out/records/example/1.json")
    assert record["method"] == "DFS_woFilter_w2"
    assert [c["function"] for c in record["calls"]] == [WEATHER, FORECAST]
    raw = load(tmp_path / "out/answer/example/1_DFS_woFilter_w2.json")
    root = raw["tree"]["tree"]
    weather_input = root["children"][0]["children"][0]
    assert weather_input["node_type"] == "Action Input" and weather_input["child_count"] == 2
    first, second = weather_input["children"]
    assert first["description"] == "Finish" and second["description"] == FORECAST
    assert first["children"][0]["observation_code"] == 4 and first["children"][0]["pruned"]
    assert raw["answer_generation"]["finish_type"] == "give_answer"
    assert raw["forward_args"]["tree_beam_size"] == 2
    # The converted answer is the winning chain only, with the sibling note in train_messages.
    details = load(tmp_path / "out/converted/example.json")["1"]["answer"]["answer_details"]
    chain = []
    node = details[0]
    while True:
        chain.append(node["message"]["name"] if node["role"] == "tool" else node["role"])
        if not node["next"]:
            break
        node = node["next"][0]
    assert chain == ["system", "user", WEATHER, FORECAST, "Finish"]
    last_conversation = raw["answer_generation"]["train_messages"][-1]
    assert any(m["role"] == "user" and "different" in m["content"] for m in last_conversation)


async def test_all_give_ups_end_as_gave_up(run, model, tmp_path):
    model.policy = lambda request: give_up()

    await run(agent="dfsdt")

    record = load(tmp_path / "out/records/example/1.json")
    # The root's two children both give up: nothing else to try.
    assert record["status"] == "gave_up" and record["model_calls"] == 2
    raw = load(tmp_path / "out/answer/example/1_DFS_woFilter_w2.json")
    assert raw["answer_generation"]["valid_data"] is False
    assert raw["answer_generation"]["final_answer"] == ""


async def test_the_search_stops_at_200_model_calls(run, model, tmp_path):
    model.policy = lambda request: call(AIR, city=f"City {len(model.requests)}")

    await run(agent="dfsdt")

    record = load(tmp_path / "out/records/example/1.json")
    assert record["status"] == "no_answer"
    assert len(model.requests) == 200 and record["model_calls"] == 200
    assert "limit (200)" in record["error"]
    raw = load(tmp_path / "out/answer/example/1_DFS_woFilter_w2.json")
    assert raw["answer_generation"]["query_count"] == 200
    assert raw["tree"]["max_length"] == 12 * 2 + 1  # chains capped at 12 steps (Action + Input)


async def test_a_failed_expansion_moves_on_to_the_sibling(run, model, tmp_path):
    from agent_support import text

    def policy(request):
        if steps_done(request) == 0 and request.sample < 1000:
            return text("no call")  # every attempt of the first child
        return finish("second child answers")

    model.policy = policy
    await run(agent="dfsdt", limits=AgentLimits(attempts=2))

    record = load(tmp_path / "out/records/example/1.json")
    assert record["status"] == "answered"
    assert record["failed_steps"][0]["sibling"] == 0
    assert record["model_calls"] == 3
    assert json.loads(
        load(tmp_path / "out/converted/example.json")["1"]["answer"]["final_answer"]
    ) == {"return_type": "give_answer", "final_answer": "second child answers"}

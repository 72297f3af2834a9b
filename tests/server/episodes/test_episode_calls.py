"""Episodes over REST, /virtual and /mcp: opening, calls, limits, expiry, closing."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from episode_fixtures import CREATE, GET
from support import FX_ARGS, FX_FUNCTION, WEATHER_CALL, serving

from toolsim.cache.entry import Reply
from toolsim.server.episodes import HEADER


async def open_episode(client: httpx.AsyncClient, **body) -> dict:
    reply = await client.post("/v1/episodes", json=body)
    assert reply.status_code == 201, reply.text
    return reply.json()


async def test_opening_a_loaded_query_gives_its_tools_budget_and_plan(make_episodes_app, connect):
    app = make_episodes_app()
    async with connect(app) as client:
        opened = await open_episode(
            client,
            group="example",
            query_id="1",
            seed=7,
            budget=20,
            costs="seed:1:1-10",
            planner="btp",
        )
    query = app.state.service.catalog.query("example", "1")
    assert opened["query"] == query.text and opened["seed"] == 7
    names = [tool["function"]["name"] for tool in opened["tools"]]
    assert names == [api.function_name for api in query.apis]
    assert opened["observation"] == {"query": query.text, "functions": names}
    assert set(opened["prices"]) == set(names) and all(
        1 <= p <= 10 for p in opened["prices"].values()
    )
    assert opened["budget"] == {"limit": 20, "spent": 0, "left": 20, "calls": 0, "max_calls": 200}
    assert opened["plan"] is not None and opened["plan"]["total_cost"] <= 20


async def test_a_seed_picks_the_same_loaded_query_every_time(make_episodes_app, connect):
    app = make_episodes_app()
    async with connect(app) as client:
        first = [(await open_episode(client, seed=s))["query_id"] for s in range(6)]
        again = [(await open_episode(client, seed=s))["query_id"] for s in range(6)]
    assert first == again and len(set(first)) > 1


async def test_a_free_query_with_its_tools(make_episodes_app, connect):
    app = make_episodes_app()
    async with connect(app) as client:
        opened = await open_episode(client, query="Keep a note", tools=["Notes Hub"])
        functions = await open_episode(client, query="Convert", functions=[FX_FUNCTION])
    assert len(opened["tools"]) == 4 and opened["group"] == "" and opened["query_id"] == ""
    assert functions["observation"]["functions"] == [FX_FUNCTION]


async def test_calls_on_every_door_are_recorded_with_their_cost(make_episodes_app, connect):
    app = make_episodes_app(simulator="scripted")
    async with connect(app) as client:
        opened = await open_episode(
            client,
            query="Weather and money",
            functions=[FX_FUNCTION, "current_weather_for_skycast_weather"],
            costs={FX_FUNCTION: 3},
            budget=10,
        )
        episode = {HEADER: opened["episode_id"]}
        rest = await client.post(f"/v1/tools/{FX_FUNCTION}", json=FX_ARGS, headers=episode)
        virtual = await client.post("/virtual", json=WEATHER_CALL, headers=episode)
        view = (await client.get(f"/v1/episodes/{opened['episode_id']}")).json()

    assert rest.status_code == 200 and rest.json()["response"]["arguments"]["base"] == "USD"
    assert virtual.status_code == 200 and virtual.json()["error"] == ""
    assert [call["function"] for call in view["calls"]] == [
        FX_FUNCTION,
        "current_weather_for_skycast_weather",
    ]
    assert [call["cost"] for call in view["calls"]] == [3, 1]
    assert view["budget"] == {"limit": 10, "spent": 4, "left": 6, "calls": 2, "max_calls": 200}
    assert view["status"] == "open" and 0 < view["expires_in"] <= 900


async def test_the_shared_cache_is_read_but_never_written(make_episodes_app, connect):
    app = make_episodes_app(simulator="scripted")
    service = app.state.service
    async with connect(app) as client:
        shared = await client.post(f"/v1/tools/{FX_FUNCTION}", json=FX_ARGS)  # stored
        stored = len(service.backend)
        opened = await open_episode(client, query="x", functions=[FX_FUNCTION])
        episode = {HEADER: opened["episode_id"]}
        hit = await client.post(f"/v1/tools/{FX_FUNCTION}", json=FX_ARGS, headers=episode)
        other = {**FX_ARGS, "target": "JPY"}
        miss = await client.post(f"/v1/tools/{FX_FUNCTION}", json=other, headers=episode)
        again = await client.post(f"/v1/tools/{FX_FUNCTION}", json=other, headers=episode)
        outside = await client.post(f"/v1/tools/{FX_FUNCTION}", json=other)

    assert hit.json() == shared.json() and hit.headers["x-toolsim-cached"] == "true"
    assert miss.headers["x-toolsim-cached"] == "false"
    assert again.json() == miss.json()  # the episode keeps its own simulation
    assert len(service.simulator.calls) == 3  # shared, the episode's miss, and outside's
    assert outside.json() != miss.json()  # the episode's simulation stayed its own
    assert len(service.backend) == stored + 1  # only the call outside the episode


async def test_tools_outside_the_episode_are_refused(make_episodes_app, connect):
    app = make_episodes_app(simulator="scripted")
    async with connect(app) as client:
        opened = await open_episode(client, query="x", functions=[FX_FUNCTION])
        episode = {HEADER: opened["episode_id"]}
        rest = await client.post(
            "/v1/tools/get_note_for_notes_hub", json={"note_id": "a"}, headers=episode
        )
        virtual = await client.post("/virtual", json=WEATHER_CALL, headers=episode)
    assert rest.status_code == 404 and rest.json()["error"]["type"] == "tool_not_found"
    assert virtual.status_code == 200 and "not a tool of episode" in virtual.json()["error"]


async def test_limits_refuse_calls_clearly_and_charge_nothing(make_episodes_app, connect):
    app = make_episodes_app(simulator="scripted", episodes={"max_calls": 2})
    async with connect(app) as client:
        capped = await open_episode(client, query="x", functions=[FX_FUNCTION])
        headers = {HEADER: capped["episode_id"]}
        for target in ("EUR", "GBP"):
            ok = await client.post(
                f"/v1/tools/{FX_FUNCTION}", json={**FX_ARGS, "target": target}, headers=headers
            )
            assert ok.status_code == 200
        third = await client.post(f"/v1/tools/{FX_FUNCTION}", json=FX_ARGS, headers=headers)
        poor = await open_episode(
            client, query="x", functions=[FX_FUNCTION], costs={FX_FUNCTION: 4}, budget=6
        )
        headers = {HEADER: poor["episode_id"]}
        first = await client.post(f"/v1/tools/{FX_FUNCTION}", json=FX_ARGS, headers=headers)
        second = await client.post(f"/v1/tools/{FX_FUNCTION}", json=FX_ARGS, headers=headers)
        via_virtual = await client.post(
            "/virtual",
            json={
                "category": "Finance",
                "tool_name": "Quick FX Rates",
                "api_name": "convertCurrency",
                "tool_input": FX_ARGS,
            },
            headers=headers,
        )
        view = (await client.get(f"/v1/episodes/{poor['episode_id']}")).json()

    assert third.status_code == 429 and third.json()["error"]["type"] == "episode_limit"
    assert "2 calls" in third.json()["error"]["message"]
    assert first.status_code == 200 and second.status_code == 429
    assert "over budget: this call costs 4, 2 of 6 is left" in second.json()["error"]["message"]
    assert via_virtual.status_code == 200 and "over budget" in via_virtual.json()["error"]
    assert view["budget"]["spent"] == 4 and len(view["calls"]) == 1


async def test_parallel_calls_never_pass_the_budget(make_episodes_app, connect):
    app = make_episodes_app(simulator="scripted")
    async with connect(app) as client:
        opened = await open_episode(client, query="x", functions=[FX_FUNCTION], budget=5)
        headers = {HEADER: opened["episode_id"]}
        replies = await asyncio.gather(
            *(
                client.post(
                    f"/v1/tools/{FX_FUNCTION}", json={**FX_ARGS, "amount": n}, headers=headers
                )
                for n in range(12)
            )
        )
        view = (await client.get(f"/v1/episodes/{opened['episode_id']}")).json()
    assert sorted(r.status_code for r in replies) == [200] * 5 + [429] * 7
    assert view["budget"]["spent"] == 5 and len(view["calls"]) == 5


async def test_unknown_closed_and_expired_episodes_are_404(make_episodes_app, connect):
    app = make_episodes_app(simulator="scripted", episodes={"ttl": 1.0})
    async with connect(app) as client:
        closed = await open_episode(client, query="x", functions=[FX_FUNCTION])
        assert (await client.delete(f"/v1/episodes/{closed['episode_id']}")).status_code == 200
        expired = await open_episode(client, query="x", functions=[FX_FUNCTION])
        deadline = time.monotonic() + 10
        while (await client.get(f"/v1/episodes/{expired['episode_id']}")).status_code == 200:
            assert time.monotonic() < deadline, "the idle episode expired"
            await asyncio.sleep(0.05)
        for episode in ("never-opened", closed["episode_id"], expired["episode_id"]):
            headers = {HEADER: episode}
            rest = await client.post(f"/v1/tools/{FX_FUNCTION}", json=FX_ARGS, headers=headers)
            assert rest.status_code == 404 and rest.json()["error"]["type"] == "episode_not_found"
            view = await client.get(f"/v1/episodes/{episode}")
            assert view.status_code == 404
        assert (await client.delete(f"/v1/episodes/{closed['episode_id']}")).status_code == 404


async def test_too_many_open_episodes_get_429_until_one_closes(make_episodes_app, connect):
    app = make_episodes_app(episodes={"max_open": 2})
    async with connect(app) as client:
        first = await open_episode(client, query="x", functions=[FX_FUNCTION])
        await open_episode(client, query="x", functions=[FX_FUNCTION])
        full = await client.post("/v1/episodes", json={"query": "x", "functions": [FX_FUNCTION]})
        await client.delete(f"/v1/episodes/{first['episode_id']}")
        room = await client.post("/v1/episodes", json={"query": "x", "functions": [FX_FUNCTION]})
    assert full.status_code == 429 and "MAX_OPEN" in full.json()["error"]["message"]
    assert room.status_code == 201


async def test_a_chosen_id_is_used_once(make_episodes_app, connect):
    app = make_episodes_app()
    async with connect(app) as client:
        opened = await open_episode(
            client, query="x", functions=[FX_FUNCTION], episode_id="run-1.a"
        )
        taken = await client.post(
            "/v1/episodes", json={"query": "x", "functions": [FX_FUNCTION], "episode_id": "run-1.a"}
        )
    assert opened["episode_id"] == "run-1.a"
    assert taken.status_code == 400 and "in use" in taken.json()["error"]["message"]


async def test_episodes_off_answer_501(make_episodes_app, connect):
    app = make_episodes_app(episodes={"enabled": False})
    async with connect(app) as client:
        reply = await client.post("/v1/episodes", json={"seed": 1})
        virtual = await client.post("/virtual", json=WEATHER_CALL, headers={HEADER: "x"})
    assert reply.status_code == 501 and reply.json()["error"]["type"] == "not_available"
    assert virtual.status_code == 200 and "episodes are off" in virtual.json()["error"]


async def test_replay_mode_misses_inside_an_episode(make_episodes_app, connect):
    app = make_episodes_app(cache={"mode": "replay"})
    async with connect(app) as client:
        opened = await open_episode(client, query="x", tools=["Notes Hub"])
        reply = await client.post(
            f"/v1/tools/{GET}", json={"note_id": "n1"}, headers={HEADER: opened["episode_id"]}
        )
    assert reply.status_code == 404 and reply.json()["error"]["type"] == "cache_miss"


@pytest.mark.slow
async def test_mcp_connections_name_their_episode(make_episodes_app):
    """The MCP SDK's own client, on a real server, inside an episode via ?episode=."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    with serving(make_episodes_app()) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            opened = await open_episode(client, query="Keep a note", tools=["Notes Hub"])
            episode = opened["episode_id"]
            async with streamable_http_client(f"{base}/mcp?episode={episode}") as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    listed = await session.list_tools()
                    created = await session.call_tool(CREATE, {"title": "t", "body": "mine"})
            view = (await client.get(f"/v1/episodes/{episode}")).json()
    assert sorted(tool.name for tool in listed.tools) == sorted(
        tool["function"]["name"] for tool in opened["tools"]
    )
    assert not created.is_error
    assert json.loads(created.content[0].text)["response"]
    assert [call["function"] for call in view["calls"]] == [CREATE]


def test_a_reply_object_is_what_the_log_keeps():
    # The log's record of a call holds the reply as the agent saw it.
    from toolsim.server.episodes.state import call_record

    record = call_record(
        "f", {"a": 1}, Reply(error="", response={"x": 1}), "simulated", cached=False, cost=2
    )
    assert (
        record["response"] == {"x": 1} and record["cost"] == 2 and record["source"] == "simulated"
    )

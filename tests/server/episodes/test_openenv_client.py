"""The OpenEnv front, driven by OpenEnv's own clients (the ``openenv-core`` package), unchanged."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from episode_fixtures import CREATE, GET, note_id
from support import serving

openenv = pytest.importorskip("openenv.core", reason="openenv-core is a test extra")
from openenv.core.generic_client import GenericEnvClient  # noqa: E402
from openenv.core.mcp_client import MCPToolClient  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture
def served(make_episodes_app) -> Iterator[tuple[str, object]]:
    app = make_episodes_app()
    with serving(app) as base:
        yield base, app


async def test_the_mcp_tool_client_plays_an_episode_to_its_reward(served):
    base, app = served
    async with MCPToolClient(base_url=base) as env:
        reset = await env.reset(query="Keep a note about Lisbon", tools=["Notes Hub"], seed=3)
        tools = await env.list_tools()
        created = await env.call_tool(CREATE, title="trip", body="Lisbon in May")
        read = await env.call_tool(GET, note_id=note_id("trip"))
        state = await env.state()
        episode = state.episode_id
        async with httpx.AsyncClient(base_url=base) as http:
            view = (await http.get(f"/v1/episodes/{episode}")).json()
        finished = await env.step(
            _call("Finish", return_type="give_answer", final_answer="Noted: Lisbon in May")
        )
    names = {tool.name for tool in tools}
    assert {CREATE, GET, "Finish"} <= names
    assert reset.done is False
    assert reset.observation.metadata["query"] == "Keep a note about Lisbon"
    assert '"Lisbon in May"' in created["response"] and "Lisbon in May" in read["response"]
    assert state.step_count == 2
    assert [call["function"] for call in view["calls"]] == [CREATE, GET]
    assert finished.done is True and finished.reward == 1.0
    assert finished.observation.result["label"] == "Solved"
    # The connection closed, and its episode with it.
    async with httpx.AsyncClient(base_url=base) as http:
        assert (await http.get(f"/v1/episodes/{episode}")).status_code == 404


async def test_the_generic_client_and_the_schema_endpoint(served):
    base, _app = served
    async with httpx.AsyncClient(base_url=base) as http:
        schema = (await http.get("/schema")).json()
    assert schema["action"]["title"] == "CallToolAction"
    async with GenericEnvClient(base_url=base) as env:
        reset = await env.reset(group="example", query_id="1", budget=3)
        listed = await env.step({"type": "list_tools"})
        over = None
        for city in ("Lisbon", "Porto", "Faro", "Braga"):
            over = await env.step(
                {
                    "type": "call_tool",
                    "tool_name": "current_weather_for_skycast_weather",
                    "arguments": {"city": city},
                }
            )
        bad = await env.step({"type": "call_tool", "tool_name": "nope", "arguments": {}})
        gave_up = await env.step(_call("Finish", return_type="give_up_and_restart"))
        with pytest.raises(RuntimeError, match="unknown action type"):
            await env.step({"type": "dance"})
    assert reset.observation["query"] and reset.observation["budget"]["limit"] == 3
    assert any(tool["name"] == "Finish" for tool in listed.observation["tools"])
    assert over is not None and "over budget" in over.observation["error"]["message"]
    assert bad.observation["error"]["message"].startswith("unknown function")
    assert gave_up.done is True and gave_up.reward == 0.0


async def test_a_reset_with_a_bad_task_is_an_error_the_client_raises(served):
    base, _app = served
    async with GenericEnvClient(base_url=base) as env:
        with pytest.raises(RuntimeError, match="both 'group' and 'query_id'"):
            await env.reset(group="example")
        with pytest.raises(RuntimeError, match="reset first"):
            await env.step({"type": "list_tools"})


def _call(name: str, **arguments):
    from openenv.core.env_server.mcp_types import CallToolAction

    return CallToolAction(tool_name=name, arguments=arguments)

"""Play toolsim episodes with OpenEnv's own client: a scripted policy, no model needed.

    pip install openenv-core
    toolsim serve --port 8080 &
    python examples/openenv_episode.py http://127.0.0.1:8080

Each episode: reset with a seed (toolsim picks a task of the loaded suite), list the
tools, call the first one with its documented example arguments, then Finish with
an answer built from the reply; the reward comes from the judge `toolsim serve` was
configured with. Swap `policy` for your model's tool calls.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from openenv.core.env_server.mcp_types import CallToolAction
from openenv.core.mcp_client import MCPToolClient


def policy(tools: list[Any]) -> tuple[str, dict[str, Any]]:
    """The first tool, with the example value of each required parameter."""
    tool = next(tool for tool in tools if tool.name != "Finish")
    schema = tool.input_schema
    arguments = {
        name: spec.get("example_value", "Lisbon")
        for name, spec in schema.get("properties", {}).items()
        if name in schema.get("required", [])
    }
    return tool.name, arguments


async def play(base_url: str, seed: int) -> float | None:
    """One episode; returns its reward."""
    async with MCPToolClient(base_url=base_url) as env:
        reset = await env.reset(seed=seed)
        print(f"episode {seed}: {reset.observation.metadata['query'][:60]}... ", end="")
        tools = await env.list_tools()
        name, arguments = policy(tools)
        reply = await env.call_tool(name, **arguments)
        answer = f"From {name}: {json.dumps(reply)[:300]}"
        done = await env.step(
            CallToolAction(
                tool_name="Finish",
                arguments={"return_type": "give_answer", "final_answer": answer},
            )
        )
        print(f"called {name}, reward {done.reward}")
        return done.reward


async def main(base_url: str, episodes: int = 3) -> None:
    """Play a few episodes one after another."""
    rewards = [await play(base_url, seed) for seed in range(episodes)]
    print(f"mean reward over {episodes} episodes: {sum(r or 0 for r in rewards) / episodes:.2f}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"))

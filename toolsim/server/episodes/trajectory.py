"""An episode as a trajectory in the Agent Trajectory Interchange Format (ATIF v1.8).

The one writer of the format in toolsim. The environment sees the agent's
actions, not its thoughts, so a trajectory holds: the task (a ``user`` step), one
``agent`` step per tool call with its observation, and the final answer when one
was verified; costs, sources and the verdict ride in ``extra``. Checked against
the ``atif`` package's own models in the tests.
"""

from __future__ import annotations

from typing import Any

import orjson

import toolsim
from toolsim.server.episodes.state import EpisodeState

SCHEMA_VERSION = "ATIF-v1.8"


def _observation(call: dict[str, Any]) -> str:
    document = {"error": call["error"], "response": call["response"]}
    return orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS).decode()


def atif_trajectory(
    state: EpisodeState, log: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The episode (its state and call log) as an ATIF trajectory document."""
    steps: list[dict[str, Any]] = [{"step_id": 1, "source": "user", "message": state.query}]
    for number, call in enumerate(log, 1):
        call_id = f"call_{number}"
        steps.append(
            {
                "step_id": len(steps) + 1,
                "source": "agent",
                "message": "",
                "tool_calls": [
                    {
                        "tool_call_id": call_id,
                        "function_name": call["function"],
                        "arguments": call["arguments"],
                    }
                ],
                "observation": {
                    "results": [{"source_call_id": call_id, "content": _observation(call)}]
                },
                "extra": {"cost": call["cost"], "source": call["source"], "cached": call["cached"]},
            }
        )
    if state.answer is not None:
        final = "" if state.answer.get("give_up") else str(state.answer.get("answer", ""))
        steps.append(
            {
                "step_id": len(steps) + 1,
                "source": "agent",
                "message": final,
                "extra": {"finish": "give_up" if state.answer.get("give_up") else "give_answer"},
            }
        )
    agent: dict[str, Any] = {"name": "unknown", "version": "unknown"}
    if tools is not None:
        agent["tool_definitions"] = tools
    return {
        "schema_version": SCHEMA_VERSION,
        "session_id": state.episode_id,
        "agent": agent,
        "steps": steps,
        "final_metrics": {
            "total_steps": len(steps),
            "extra": {
                "tool_calls": len(log),
                "cost": state.budget_view()["spent"],
                "reward": (state.verdict or {}).get("reward"),
            },
        },
        "extra": {
            "environment": f"toolsim {toolsim.__version__}",
            "group": state.group,
            "query_id": state.query_id,
            "seed": state.seed,
            "budget": state.budget_view(),
            "verdict": state.verdict,
        },
    }

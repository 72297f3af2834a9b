"""Bench fixtures: a scripted agent, judge and simulator, each registered like a real backend.

Every one counts the requests that reach it, so tests can tell work done from
work answered by a cache.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from toolsim.llm import ChatReply, ChatRequest, ToolCall, register_chat_model
from toolsim.settings import Settings
from toolsim.simulator.base import Simulation, SimulationRequest, register_simulator
from toolsim.simulator.template_filler import SchemaSimulator


@dataclass
class Counters:
    """Requests that reached each scripted backend (cache misses)."""

    agent: int = 0
    judge: int = 0
    simulator: int = 0
    #: Changes the agent's answers from this many calls on (to make a run differ).
    answers_suffix: str = ""
    seen: list[str] = field(default_factory=list)


COUNTS = Counters()


class PipelineAgent:
    """Calls the first offered tool once, then finishes with an answer naming what it saw."""

    name = "pipeline-agent-model"

    async def complete(self, request: ChatRequest) -> ChatReply:
        COUNTS.agent += 1
        offered = {tool["function"]["name"]: tool["function"] for tool in request.tools}
        results = [m for m in request.messages if m["role"] == "tool"]
        tools = [name for name in offered if name != "Finish"]
        if tools and not results:
            return _call(tools[0], _arguments(offered[tools[0]]))
        answer = f"Answer after {len(results)} tool calls{COUNTS.answers_suffix}"
        return _call("Finish", {"return_type": "give_answer", "final_answer": answer})

    async def aclose(self) -> None:
        pass


class PipelineJudge:
    """Solved when the answer saw a tool reply, else Unsolved; comparisons are ties."""

    name = "pipeline-judge-model"

    async def complete(self, request: ChatRequest) -> ChatReply:
        COUNTS.judge += 1
        field_name = request.response_format["json_schema"]["name"]
        text = request.messages[-1]["content"]
        if field_name == "verdict":
            label = "Unsolved" if "after 0 tool calls" in text else "Solved"
            body = {"reason": "scripted", "verdict": label}
        else:
            body = {"reason": "scripted", field_name: "tie"}
        return ChatReply(content=json.dumps(body), prompt_tokens=5, completion_tokens=5)

    async def aclose(self) -> None:
        pass


class CountingSimulator(SchemaSimulator):
    """The deterministic schema simulator, counting the misses it answers."""

    async def simulate(self, request: SimulationRequest) -> Simulation:
        COUNTS.simulator += 1
        return await super().simulate(request)


def _arguments(function: dict[str, Any]) -> dict[str, Any]:
    """Every required parameter, filled with its documented example (or a word)."""
    parameters = function.get("parameters", {})
    properties = parameters.get("properties", {})
    return {
        name: properties.get(name, {}).get("example_value") or "Oslo"
        for name in parameters.get("required", [])
    }


def _call(name: str, arguments: dict[str, Any]) -> ChatReply:
    call = ToolCall(name=name, arguments=json.dumps(arguments), id="call-1")
    return ChatReply(content=None, tool_calls=(call,), prompt_tokens=10, completion_tokens=5)


@register_chat_model("pipeline-agent")
def _agent(**_: Any) -> PipelineAgent:
    return PipelineAgent()


@register_chat_model("pipeline-judge")
def _judge(**_: Any) -> PipelineJudge:
    return PipelineJudge()


@register_simulator("pipeline-sim")
def _simulator(**_: Any) -> CountingSimulator:
    return CountingSimulator()


@pytest.fixture(autouse=True)
def counts() -> Counters:
    """Fresh counters, and no TOOLSIM_* variables from the caller's shell."""
    global COUNTS
    COUNTS.__init__()  # type: ignore[misc]
    return COUNTS


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Scripted agent, judge and simulator, with every cache under a fresh home."""
    return Settings(
        home=tmp_path / "home",
        agent={"backend": "pipeline-agent"},
        judge={"backend": "pipeline-judge"},
        simulator={"backend": "pipeline-sim"},
    )

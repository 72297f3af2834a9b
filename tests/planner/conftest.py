"""Planner fixtures: a spendthrift scripted agent model, registered like a real backend.

The scripted model calls whatever the gate offers, round robin, until the gate's
advice says to finish or it has made ``MAX_CALLS`` calls; so what a run spends
shows what the gate allowed. The tool server runs in-process with the
deterministic ``schema`` simulator: no real model is involved.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from toolsim.llm import ChatReply, ChatRequest, ToolCall, register_chat_model

BACKEND = "planner-spendthrift"
MAX_CALLS = 8


def _call(name: str, **arguments: Any) -> ChatReply:
    call = ToolCall(name=name, arguments=json.dumps(arguments), id=f"c{name}")
    return ChatReply(content=None, tool_calls=(call,), prompt_tokens=10, completion_tokens=5)


def _offered(request: ChatRequest) -> dict[str, dict[str, Any]]:
    """Offered functions (Finish aside) -> arguments built from their documented examples."""
    offered = {}
    for tool in request.tools or []:
        function = tool["function"]
        if function["name"] == "Finish":
            continue
        properties = function.get("parameters", {}).get("properties", {})
        offered[function["name"]] = {
            name: spec.get("example_value", "1")
            for name, spec in properties.items()
            if name in function.get("parameters", {}).get("required", [])
        }
    return offered


class Spendthrift:
    """Calls every offered function in turn; finishes when told to or after MAX_CALLS."""

    name = "planner-spendthrift-model"

    async def complete(self, request: ChatRequest) -> ChatReply:
        done = sum(1 for message in request.messages if message["role"] == "tool")
        told = any("Finish" in str(m.get("content", "")) for m in request.messages[2:])
        offered = _offered(request)
        if told or not offered or done >= MAX_CALLS:
            return _call("Finish", return_type="give_answer", final_answer=f"done after {done}")
        name = list(offered)[done % len(offered)]
        return _call(name, **offered[name])

    async def aclose(self) -> None:
        pass


@register_chat_model(BACKEND)
def _spendthrift(**options: Any) -> Spendthrift:
    return Spendthrift()


@pytest.fixture
def run_env(tmp_path: Path) -> dict[str, str]:
    """Environment for ``toolsim run`` with the spendthrift model on a tmp home."""
    return {
        "TOOLSIM_AGENT__BACKEND": BACKEND,
        "TOOLSIM_HOME": str(tmp_path / "home"),
        "TOOLSIM_SIMULATOR__BACKEND": "schema",
    }

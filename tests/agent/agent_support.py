"""Agent test helpers: a scripted chat model registered like a real backend, reply builders.

The scripted model answers each request with what a *policy* returns for it
(a reply, or an exception to raise); policies read the request (its messages,
offered tools, notes) like a model would. The tool server runs in-process with
the deterministic ``schema`` simulator, so no real model is involved.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from toolsim.llm import ChatReply, ChatRequest, ToolCall, register_chat_model

BACKEND = "scripted-agent"
Policy = Callable[[ChatRequest], "ChatReply | Exception"]


class ScriptedChat:
    """A chat model whose replies come from a policy; records every request it gets."""

    name = "scripted-agent-model"

    def __init__(self) -> None:
        self.policy: Policy = lambda request: finish("no policy set")
        self.requests: list[ChatRequest] = []

    async def complete(self, request: ChatRequest) -> ChatReply:
        self.requests.append(request)
        outcome = self.policy(request)
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def aclose(self) -> None:
        pass


class Current:
    """The scripted model runs in this test talk to (the ``model`` fixture sets a fresh one)."""

    model = ScriptedChat()


@register_chat_model(BACKEND)
def _scripted(**options: Any) -> ScriptedChat:
    return Current.model


def call(name: str, thought: str = "", **arguments: Any) -> ChatReply:
    """A native tool-call reply."""
    return ChatReply(
        content=thought or None,
        tool_calls=(ToolCall(name=name, arguments=json.dumps(arguments), id="x"),),
        prompt_tokens=10,
        completion_tokens=5,
    )


def parallel(*calls: tuple[str, dict[str, Any]], thought: str = "") -> ChatReply:
    """A reply making several tool calls at once: ``parallel((name, arguments), ...)``."""
    return ChatReply(
        content=thought or None,
        tool_calls=tuple(
            ToolCall(name=name, arguments=json.dumps(arguments), id=f"model-id-{i}")
            for i, (name, arguments) in enumerate(calls)
        ),
        prompt_tokens=10,
        completion_tokens=5,
    )


def finish(answer: str, thought: str = "") -> ChatReply:
    """Finish with an answer."""
    return call("Finish", thought, return_type="give_answer", final_answer=answer)


def give_up() -> ChatReply:
    """Finish by giving up."""
    return call("Finish", return_type="give_up_and_restart")


def text(content: str) -> ChatReply:
    """A reply with text and no call."""
    return ChatReply(content=content, prompt_tokens=10, completion_tokens=5)


def steps_done(request: ChatRequest) -> int:
    """How many actions the conversation already holds (tool results seen)."""
    return sum(
        1
        for m in request.messages
        if m["role"] == "tool"
        or (m["role"] == "user" and str(m.get("content", "")).startswith("Result of "))
    )


def task_of(request: ChatRequest) -> str:
    """The task text the request is about."""
    return request.messages[1]["content"]


def notes(request: ChatRequest) -> list[str]:
    """User messages after the task (diversity notes, advice)."""
    users = [m["content"] for m in request.messages if m["role"] == "user"]
    return [u for u in users[1:] if not u.startswith("Result of ")]


def offered(request: ChatRequest) -> list[str]:
    """Function names the request offers."""
    if request.tools:
        return [tool["function"]["name"] for tool in request.tools]
    schema = request.response_format["json_schema"]["schema"]
    return [option["properties"]["function"]["const"] for option in schema["anyOf"]]


def load(path: Path) -> Any:
    """Parsed JSON of a file."""
    return json.loads(path.read_text())

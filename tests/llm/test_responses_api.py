"""The Responses API in the one model client, against a scripted /v1/responses endpoint.

The client is the real openai SDK; the endpoint answers as OpenAI's does (reasoning
items, function calls, output text), and records what it was sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from support import ReadyServer, free_port

from toolsim.agent import actions
from toolsim.agent.actions import ActionMode, View
from toolsim.agent.trajectory import Step
from toolsim.catalog import Catalog
from toolsim.llm import ChatRequest, Endpoint, OpenAIChat, RequestRejected, create_chat_model
from toolsim.settings import Settings

WEATHER = "current_weather_for_skycast_weather"


def _response(output: list[dict[str, Any]], status: str = "completed", **extra: Any) -> dict:
    return {
        "id": f"resp_{time.monotonic_ns()}",
        "object": "response",
        "created_at": time.time(),
        "model": "scripted-reasoner",
        "status": status,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": 42,
            "output_tokens": 7,
            "total_tokens": 49,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 5},
        },
        **extra,
    }


REASONING = {
    "id": "rs_1",
    "type": "reasoning",
    "summary": [{"type": "summary_text", "text": "Need the weather first."}],
    "encrypted_content": "opaque-chain-of-thought-1",
}
CALL = {
    "id": "fc_1",
    "type": "function_call",
    "call_id": "call_abc",
    "name": WEATHER,
    "arguments": '{"city": "Lisbon"}',
    "status": "completed",
}


def _message(text: str) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


class Scripted:
    """Answers /v1/responses from a script of replies; records every request body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.script: list[tuple[int, dict[str, Any]]] = []

    def app(self) -> Starlette:
        async def responses(request: Request) -> JSONResponse:
            body = await request.json()
            self.bodies.append(body)
            status, reply = self.script.pop(0)
            return JSONResponse(reply, status_code=status)

        return Starlette(routes=[Route("/v1/responses", responses, methods=["POST"])])


@pytest.fixture
def scripted() -> Iterator[tuple[Scripted, str]]:
    endpoint = Scripted()
    port = free_port()
    server = ReadyServer(
        uvicorn.Config(endpoint.app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert server.ready.wait(30)
    yield endpoint, f"http://127.0.0.1:{port}/v1"
    server.should_exit = True
    thread.join(30)


def _client(base_url: str) -> OpenAIChat:
    return OpenAIChat(Endpoint(base_url=base_url, model="scripted-reasoner"), api="responses")


async def test_tool_turns_carry_the_reasoning_items_back(scripted):
    endpoint, base_url = scripted
    endpoint.script = [(200, _response([REASONING, CALL])), (200, _response([_message("Sunny")]))]
    catalog = Catalog.from_paths(["example"])
    weather = catalog.by_function(WEATHER)
    view = View("Weather in Lisbon?", (), (weather,))
    built = actions.build(view, ActionMode.TOOLS)
    model = _client(base_url)
    try:
        first = await model.complete(
            ChatRequest(messages=tuple(built["messages"]), tools=tuple(built["tools"]))
        )
        chosen = actions.parse(first, ActionMode.TOOLS)
        step = Step(chosen[0], '{"error": "", "response": {"sky": "clear"}}', 0)
        built = actions.build(View("Weather in Lisbon?", (step,), (weather,)), ActionMode.TOOLS)
        second = await model.complete(
            ChatRequest(messages=tuple(built["messages"]), tools=tuple(built["tools"]))
        )
    finally:
        await model.aclose()

    assert [(c.name, c.arguments, c.id) for c in first.tool_calls] == [
        (WEATHER, CALL["arguments"], "call_abc")
    ]
    assert first.reasoning[0]["encrypted_content"] == "opaque-chain-of-thought-1"
    assert (first.prompt_tokens, first.completion_tokens, first.finish_reason) == (
        42,
        7,
        "tool_calls",
    )
    assert second.content == "Sunny" and second.finish_reason == "stop"

    sent = endpoint.bodies[0]
    assert sent["model"] == "scripted-reasoner" and sent["store"] is False
    assert "reasoning.encrypted_content" in sent["include"]
    assert sent["input"][0]["role"] == "system" and sent["input"][1]["role"] == "user"
    tools = {tool["name"]: tool for tool in sent["tools"]}
    assert (
        tools[WEATHER]["type"] == "function"
        and "city" in tools[WEATHER]["parameters"]["properties"]
    )
    assert "messages" not in sent and "seed" not in sent

    turn = endpoint.bodies[1]["input"]
    kinds = [item.get("type", item.get("role")) for item in turn]
    assert kinds == ["system", "user", "reasoning", "function_call", "function_call_output"]
    assert turn[2]["encrypted_content"] == "opaque-chain-of-thought-1"
    assert turn[3]["name"] == WEATHER and json.loads(turn[3]["arguments"]) == {"city": "Lisbon"}
    assert turn[4]["call_id"] == turn[3]["call_id"]
    assert json.loads(turn[4]["output"])["response"] == {"sky": "clear"}


async def test_the_judge_role_asks_for_json_through_text_format(scripted, tmp_path):
    endpoint, base_url = scripted
    endpoint.script = [(200, _response([_message('{"label": "Solved"}')]))]
    settings = Settings(
        home=tmp_path,
        judge={
            "backend": "openai",
            "base_url": base_url,
            "model": "scripted-reasoner",
            "api": "responses",
        },
    )
    model = create_chat_model("judge", settings)
    schema = {"type": "object", "properties": {"label": {"type": "string"}}}
    request = ChatRequest(
        messages=({"role": "system", "content": "Judge."}, {"role": "user", "content": "Answer?"}),
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "verdict", "schema": schema},
        },
        max_tokens=64,
    )
    try:
        reply = await model.complete(request)
        cached = await model.complete(request)
    finally:
        await model.aclose()
    assert reply.content == '{"label": "Solved"}' and cached.cached
    assert len(endpoint.bodies) == 1
    sent = endpoint.bodies[0]
    assert sent["text"]["format"] == {"type": "json_schema", "name": "verdict", "schema": schema}
    assert sent["max_output_tokens"] == 64


async def test_a_cut_reply_and_a_refused_format(scripted):
    endpoint, base_url = scripted
    cut = _response(
        [_message('{"label": "Sol')],
        status="incomplete",
        incomplete_details={"reason": "max_output_tokens"},
    )
    refused = {
        "error": {
            "message": "Unsupported parameter: 'text.format'",
            "type": "invalid_request_error",
        }
    }
    endpoint.script = [(200, cut), (400, refused), (200, _response([_message("plain")]))]
    model = _client(base_url)
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    try:
        first = await model.complete(ChatRequest(messages=({"role": "user", "content": "hi"},)))
        stepped = await model.complete(
            ChatRequest(messages=({"role": "user", "content": "hi"},), response_format=fmt)
        )
    finally:
        await model.aclose()
    assert first.finish_reason == "length"
    assert stepped.content == "plain" and model.response_format == "json_object"
    assert endpoint.bodies[2]["text"]["format"] == {"type": "json_object"}


async def test_a_rejected_request_is_a_clear_error(scripted):
    endpoint, base_url = scripted
    endpoint.script = [
        (400, {"error": {"message": "tools need reasoning", "type": "invalid_request_error"}})
    ]
    model = _client(base_url)
    try:
        with pytest.raises(RequestRejected, match="tools need reasoning"):
            await model.complete(ChatRequest(messages=({"role": "user", "content": "hi"},)))
    finally:
        await model.aclose()


def test_chat_completions_never_see_the_reasoning_key():
    from toolsim.llm.responses import chat_messages

    messages = ({"role": "assistant", "content": None, "reasoning": [REASONING], "tool_calls": []},)
    assert chat_messages(messages) == [{"role": "assistant", "content": None, "tool_calls": []}]

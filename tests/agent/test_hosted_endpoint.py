"""The agent against a scripted endpoint that behaves like today's hosted models.

A real OpenAI-compatible HTTP server (uvicorn in a thread), reached through the
``openai`` backend like any real endpoint: it answers with two parallel tool
calls, then a Finish that quotes both results; and it can first answer 429 with
``Retry-After`` and 500. The run must finish every query with both calls
executed, and the faults must change nothing but the retry counts.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from support import ReadyServer

from toolsim.agent import RunConfig, run_queries
from toolsim.settings import Settings

QUERIES = ["1", "3", "5"]
VALUES = {"number": 1, "boolean": True, "string": "Lisbon"}


class HostedModel:
    """What the scripted endpoint does and saw (thread-safe enough: uvicorn runs one loop)."""

    def __init__(self) -> None:
        self.faults: list[tuple[int, dict[str, str]]] = []  # (status, headers), consumed first
        self.bodies: list[dict[str, Any]] = []  # every chat request, faulted ones included
        self.answered: list[dict[str, Any]] = []  # the chat requests answered with a completion


def _arguments(function: dict[str, Any]) -> str:
    parameters = function["parameters"]
    return json.dumps(
        {
            name: "2024-05-01" if spec.get("format") == "date" else VALUES[spec["type"]]
            for name, spec in parameters["properties"].items()
            if name in parameters["required"]
        }
    )


def _message(body: dict[str, Any]) -> dict[str, Any]:
    results = [m for m in body["messages"] if m["role"] == "tool"]
    if not results:
        offered = [t["function"] for t in body["tools"] if t["function"]["name"] != "Finish"]
        calls = [
            {
                "id": f"call_{letter}",
                "type": "function",
                "function": {"name": function["name"], "arguments": _arguments(function)},
            }
            for letter, function in zip("ab", offered[:2], strict=True)
        ]
        return {"role": "assistant", "content": "Both at once.", "tool_calls": calls}
    answer = " | ".join(m["content"][:40] for m in results)
    finish = {"return_type": "give_answer", "final_answer": f"From both calls: {answer}"}
    call = {"name": "Finish", "arguments": json.dumps(finish)}
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "call_f", "type": "function", "function": call}],
    }


def _app(model: HostedModel) -> Starlette:
    async def chat(request: Request) -> Response:
        body = await request.json()
        model.bodies.append(body)
        if model.faults:
            status, headers = model.faults.pop(0)
            error = {"message": f"scripted {status}", "type": "server_error"}
            return JSONResponse({"error": error}, status_code=status, headers=headers)
        model.answered.append(body)
        completion = {
            "id": "chatcmpl-scripted",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "message": _message(body), "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        }
        return JSONResponse(completion)

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])


@pytest.fixture
def hosted() -> Iterator[tuple[HostedModel, str]]:
    """The scripted endpoint on a loopback port; yields it and its base URL (``.../v1``)."""
    model = HostedModel()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        _app(model), log_config=None, log_level="warning", access_log=False, lifespan="off"
    )
    server = ReadyServer(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        assert server.ready.wait(10), "the scripted endpoint did not start"
        yield model, f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


async def _run(base_url: str, folder: Path) -> Path:
    settings = Settings(
        home=folder / "home",
        agent={"base_url": base_url, "model": "scripted-hosted"},
        simulator={"backend": "schema"},
        retry={"base": 0.01, "max": 1.0},
    )
    config = RunConfig(queries=["example"], out=folder / "out", agent="cot", query_ids=QUERIES)
    summary = await run_queries(config, settings)
    assert summary.statuses == {"answered": len(QUERIES)}
    return folder / "out"


def _records(out: Path) -> dict[str, dict[str, Any]]:
    return {
        query: json.loads((out / "records" / "example" / f"{query}.json").read_text())
        for query in QUERIES
    }


def _trajectory(out: Path) -> dict[str, Any]:
    """Everything the run produced but timings and retry counts."""
    varying = {"wall_seconds", "finished", "model_retries", "model_retry_seconds"}
    records = {
        query: {k: v for k, v in record.items() if k not in varying}
        for query, record in _records(out).items()
    }
    converted = json.loads((out / "converted" / "example.json").read_text())
    answers = {
        query: json.loads((out / "answer" / "example" / f"{query}_CoT@1.json").read_text())
        for query in QUERIES
    }
    return {"records": records, "converted": converted, "answers": answers}


@pytest.mark.slow
async def test_faults_and_parallel_calls(hosted, tmp_path):
    model, base_url = hosted
    model.faults = [(429, {"retry-after": "0.2"}), (500, {})]

    faulty = await _run(base_url, tmp_path / "faulty")
    faulted_bodies, answered = model.bodies, model.answered
    model.bodies, model.answered = [], []
    clean = await _run(base_url, tmp_path / "clean")

    # Every query finished, with both parallel calls executed, answered and recorded.
    records = _records(faulty)
    for record in records.values():
        assert record["status"] == "answered"
        assert [call["turn"] for call in record["calls"]] == [0, 0]
        assert all(call["error"] == "" and call["source"] for call in record["calls"])
        assert record["tool_calls"] == 2 and record["model_calls"] == 2
    # Both results went back, each under the id of its call, in one assistant message.
    follow_ups = [b for b in answered if any(m["role"] == "tool" for m in b["messages"])]
    assert len(follow_ups) == len(QUERIES)
    for body in follow_ups:
        assistant = next(m for m in body["messages"] if m.get("tool_calls"))
        ids = [call["id"] for call in assistant["tool_calls"]]
        results = [m["tool_call_id"] for m in body["messages"] if m["role"] == "tool"]
        assert len(ids) == 2 and results == ids
    # The faults were retried with the very same request, and only counted.
    assert len(faulted_bodies) == len(answered) + 2
    assert faulted_bodies[0] in answered and faulted_bodies[1] in answered
    assert sum(r["model_retries"] for r in records.values()) == 2
    waited = sum(r["model_retry_seconds"] for r in records.values())
    # Retry-After for the 429, a backoff of 0.01-0.03 s for the 500 (first or second retry).
    assert 0.2 + 0.01 <= waited <= 0.2 + 0.03 + 1e-6
    # In the answer files each call is its own step, as the reference converter expects.
    for entry in json.loads((faulty / "converted" / "example.json").read_text()).values():
        tools, node = [], entry["answer"]["answer_details"][0]
        while node["next"]:
            node = node["next"][0]
            if node["role"] == "tool":
                tools.append(node["message"]["name"])
        assert len(tools) == 3 and tools[-1] == "Finish"
    # And the faults changed nothing else.
    assert _trajectory(faulty) == _trajectory(clean)
    assert sorted(map(json.dumps, answered)) == sorted(map(json.dumps, model.answered))

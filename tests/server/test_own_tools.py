"""Your own tools on every door: the real Petstore document and an MCP server written with
the official SDK (over stdio and streamable HTTP); record-and-replay against real servers."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from support import free_port, serving, wait_for

from toolsim.cache.entry import Source
from toolsim.server import create_app
from toolsim.settings import Settings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PETSTORE = str(ROOT / "examples" / "petstore" / "openapi.yaml")
NOTES = f"mcp:python {ROOT / 'examples' / 'mcp_server' / 'notes_server.py'}"
PET_TOOL = "Swagger Petstore - OpenAPI 3.0"
GET_PET = "getpetbyid_for_swagger_petstore_openapi_3_0"
SEARCH = "search_notes_for_notes"
SECRET = "s3cret-key-never-stored"
#: Seconds a call may take: a stdio MCP server starts on the first one (slow on a busy machine).
TIMEOUT = 60.0


def virtual(tool: str, api: str, arguments: dict[str, Any], category: str) -> dict[str, Any]:
    return {"category": category, "tool_name": tool, "api_name": api, "tool_input": arguments}


def on_every_door(base: str, function: str, body: dict[str, Any], arguments: dict[str, Any]):
    """The tool list and one call's reply on /v1, /virtual and /mcp of a served toolsim."""
    listed = httpx.get(f"{base}/v1/tools").json()["tools"]
    native = httpx.post(f"{base}/v1/tools/{function}", json=arguments, timeout=TIMEOUT)
    stb = httpx.post(f"{base}/virtual", json=body, timeout=TIMEOUT)

    async def over_mcp() -> tuple[list[str], Any]:
        async with Client(f"{base}/mcp") as client:
            tools = [tool.name for tool in (await client.list_tools()).tools]
            result = await client.call_tool(function, arguments)
            return tools, result

    mcp_tools, mcp_result = asyncio.run(over_mcp())
    return listed, native, stb, mcp_tools, mcp_result


def test_the_petstore_document_lists_and_answers_on_all_three_doors(tmp_path: Path):
    app = create_app(Settings(home=tmp_path, tools=[PETSTORE], simulator={"backend": "schema"}))
    with serving(app) as base:
        body = virtual(PET_TOOL, "getPetById", {"petId": 7}, "OpenAPI")
        listed, native, stb, mcp_tools, mcp_result = on_every_door(
            base, GET_PET, body, {"petId": 7}
        )
    assert len(listed) == len(mcp_tools) == 19
    assert GET_PET in mcp_tools
    assert native.status_code == stb.status_code == 200
    # One call, one cache entry: the three doors give the same reply.
    reply = stb.json()
    assert reply["error"] == "" and set(reply["response"]) >= {"id", "name", "photoUrls"}
    assert native.json() == reply
    assert json.loads(mcp_result.content[0].text) == reply
    assert (native.headers["x-toolsim-cached"], stb.headers["x-toolsim-cached"]) == (
        "false",
        "true",
    )


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_an_mcp_server_lists_and_answers_on_all_three_doors(tmp_path: Path, transport: str):
    with _notes_server(transport) as source:
        app = create_app(Settings(home=tmp_path, tools=[source], simulator={"backend": "schema"}))
    names = {api.function_name for api in app.state.service.catalog}
    assert names == {"add_note_for_notes", SEARCH, "count_by_topic_for_notes"}
    with serving(app) as base:
        body = virtual("notes", "search_notes", {"query": "train"}, "MCP")
        listed, native, stb, mcp_tools, mcp_result = on_every_door(
            base, SEARCH, body, {"query": "train"}
        )
    schema = next(t["function"] for t in listed if t["function"]["name"] == SEARCH)
    assert schema["parameters"]["required"] == ["query"]
    assert schema["parameters"]["properties"]["limit"]["type"] == "integer"
    assert sorted(mcp_tools) == sorted(names)
    # Simulated from the tool's output schema: the shape the real tool declares.
    reply = stb.json()
    assert set(reply["response"]) == {"query", "notes"}
    assert native.json() == reply == json.loads(mcp_result.content[0].text)


def test_record_against_a_real_rest_server_then_replay_offline_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    petstore_app = _example_module("petstore/server.py").app
    monkeypatch.setenv("PETSTORE_API_KEY", SECRET)
    home = tmp_path / "home"
    calls = [
        virtual(PET_TOOL, "getPetById", {"petId": 1}, "OpenAPI"),
        virtual(PET_TOOL, "findPetsByStatus", {"status": "sold"}, "OpenAPI"),
        virtual(PET_TOOL, "getPetById", {"petId": 99}, "OpenAPI"),  # a real 404
        virtual(PET_TOOL, "getInventory", {}, "OpenAPI"),
    ]
    with serving(petstore_app) as real:
        truth = [
            httpx.get(f"{real}/api/v3/pet/1", headers={"api_key": SECRET}).json(),
            httpx.get(f"{real}/api/v3/pet/findByStatus?status=sold", headers={"api_key": SECRET}),
        ]
        recording = create_app(
            Settings(
                home=home,
                tools=[PETSTORE],
                real_tools={"openapi_server": f"{real}/api/v3", "headers": {"api_key": SECRET}},
                simulator={"backend": "upstream"},
                cache={"mode": "record"},
            )
        )
        with serving(recording) as base:
            recorded = [httpx.post(f"{base}/virtual", json=call, timeout=TIMEOUT) for call in calls]
    assert [r.headers["x-toolsim-source"] for r in recorded] == ["real"] * 4
    assert recorded[0].json() == {"error": "", "response": truth[0]}
    assert recorded[1].json()["response"] == truth[1].json()
    assert recorded[2].json() == {
        "error": "HTTP 404 Not Found",
        "response": {"detail": "Pet not found"},
    }

    # The real server is gone; replay serves every recorded reply, byte for byte.
    replaying = create_app(Settings(home=home, tools=[PETSTORE], cache={"mode": "replay"}))
    with serving(replaying) as base:
        replayed = [httpx.post(f"{base}/virtual", json=call, timeout=TIMEOUT) for call in calls]
        stats = httpx.get(f"{base}/stats").json()["since_start"]
    assert [r.content for r in replayed] == [r.content for r in recorded]
    assert [r.headers["x-toolsim-cached"] for r in replayed] == ["true"] * 4
    assert stats["by_source"] == {"real": 4}

    entries = _entries(home)
    assert {(e.source, e.simulator) for e in entries} == {(Source.REAL, "upstream")}
    assert not any(
        SECRET.encode() in path.read_bytes() for path in home.rglob("*") if path.is_file()
    )


def test_a_real_servers_failure_of_the_moment_is_never_recorded(tmp_path: Path):
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    flaky = FastAPI()
    hits = []

    @flaky.get("/api/v3/pet/{pet_id}")
    def pet(pet_id: int) -> Any:
        hits.append(pet_id)
        if len(hits) == 1:
            return JSONResponse({"message": "busy"}, status_code=503)
        return {"id": pet_id, "name": "Rex"}

    call = virtual(PET_TOOL, "getPetById", {"petId": 5}, "OpenAPI")
    with serving(flaky) as real:
        app = create_app(
            Settings(
                home=tmp_path,
                tools=[PETSTORE],
                real_tools={"openapi_server": f"{real}/api/v3"},
                simulator={"backend": "upstream"},
            )
        )
        with serving(app) as base:
            first = httpx.post(f"{base}/virtual", json=call, timeout=TIMEOUT).json()
            second = httpx.post(f"{base}/virtual", json=call, timeout=TIMEOUT).json()
    assert "gave no answer to record (HTTP 503)" in first["error"]
    assert second == {"error": "", "response": {"id": 5, "name": "Rex"}}
    assert len(_entries(tmp_path)) == 1


def test_record_a_real_mcp_tool_then_replay_offline_byte_identical(tmp_path: Path):
    calls = [
        virtual("notes", "search_notes", {"query": "train"}, "MCP"),
        virtual("notes", "add_note", {"text": "Water the plants"}, "MCP"),
        virtual("notes", "count_by_topic", {}, "MCP"),
    ]
    recording = create_app(
        Settings(
            home=tmp_path,
            tools=[NOTES],
            simulator={"backend": "upstream"},
            cache={"mode": "record"},
        )
    )
    with serving(recording) as base:
        recorded = [httpx.post(f"{base}/virtual", json=call, timeout=TIMEOUT) for call in calls]
    assert [r.json() for r in recorded] == [
        {
            "error": "",
            "response": {
                "query": "train",
                "notes": [{"id": 1, "topic": "travel", "text": "Book the night train to Vienna"}],
            },
        },
        {"error": "", "response": {"id": 4, "topic": "home", "text": "Water the plants"}},
        # The real server kept its state between calls: one session for the whole run.
        {"error": "", "response": {"travel": 2, "work": 1, "home": 1}},
    ]
    replaying = create_app(
        Settings(
            home=tmp_path, tools=[NOTES], simulator={"backend": "schema"}, cache={"mode": "replay"}
        )
    )
    with serving(replaying) as base:
        replayed = [httpx.post(f"{base}/virtual", json=call, timeout=TIMEOUT) for call in calls]
    assert [r.content for r in replayed] == [r.content for r in recorded]
    assert {(e.source, e.simulator) for e in _entries(tmp_path)} == {(Source.REAL, "upstream")}


def _entries(home: Path) -> list[Any]:
    from toolsim.cache.backend import open_backend

    backend = open_backend(None, home)
    try:
        return [entry for _, entry in backend.items()]
    finally:
        backend.close()


class _notes_server:
    """The example MCP server as a ``--tools`` source: over stdio, or served over HTTP."""

    def __init__(self, transport: str) -> None:
        self.transport = transport
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> str:
        if self.transport == "stdio":
            return NOTES
        port = free_port()
        script = ROOT / "examples" / "mcp_server" / "notes_server.py"
        self.process = subprocess.Popen(
            [sys.executable, str(script), "--http", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}/mcp"
        wait_for(lambda: httpx.get(url).status_code in (200, 400, 405, 406), "MCP server", 30)
        return f"mcp:{url}"

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)


def _example_module(path: str) -> Any:
    """A module of ``examples/`` (not a package), loaded from its file."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "example_" + path.replace("/", "_")[:-3], ROOT / "examples" / path
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

"""Parameters answer to their documented names and to StableToolBench's client names alike."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from support import ReadyServer

from toolsim.cache.keys import cache_key
from toolsim.cache.reference_format import import_reference
from toolsim.catalog import Catalog
from toolsim.server import create_app
from toolsim.settings import Settings

PRODUCT = {"category": "Commerce", "tool_name": "Brand Finder", "api_name": "Product by ID"}
CLASH = {"category": "Commerce", "tool_name": "Brand Finder", "api_name": "Clash"}
FUNCTION = "product_by_id_for_brand_finder"
DOCUMENTED = {"ID": 7, "brandName": "Acme"}
RENAMED = {"is_id": "7", "brandname": "Acme"}


def _param(name: str, kind: str, default: Any = "") -> dict[str, Any]:
    return {"name": name, "type": kind, "description": f"the {name}", "default": default}


QUERIES = [
    {
        "query_id": 1,
        "query": "Find the Acme product 7.",
        "api_list": [
            {
                "category_name": "Commerce",
                "tool_name": "Brand Finder",
                "api_name": "Product by ID",
                "api_description": "A product of a brand.",
                "required_parameters": [_param("ID", "NUMBER", 1), _param("brandName", "STRING")],
                "optional_parameters": [_param("Phone-Id", "STRING"), _param("NUMBER", "NUMBER")],
                "method": "GET",
                "template_response": {"name": "str"},
            },
            {
                "category_name": "Commerce",
                "tool_name": "Brand Finder",
                "api_name": "Clash",
                "api_description": "Two parameters StableToolBench names alike.",
                "required_parameters": [],
                "optional_parameters": [_param("Query", "STRING"), _param("query!", "STRING")],
                "method": "GET",
                "template_response": {"name": "str"},
            },
        ],
        "relevant APIs": [["Brand Finder", "Product by ID"]],
    }
]


@pytest.fixture
def query_file(tmp_path: Path) -> Path:
    path = tmp_path / "G9_aliases.json"
    path.write_text(json.dumps(QUERIES))
    return path


@pytest.fixture
def make(make_app: Callable[..., FastAPI], query_file: Path) -> Callable[..., FastAPI]:
    return lambda **settings: make_app(tools=[str(query_file)], **settings)


def _virtual(names: dict[str, str], arguments: dict[str, Any]) -> dict[str, Any]:
    return {**names, "tool_input": json.dumps(arguments), "strip": "", "toolbench_key": ""}


async def test_both_spellings_are_one_call(make, connect):
    app = make()
    fake = app.state.service.simulator
    async with connect(app) as client:
        renamed = await client.post("/virtual", json=_virtual(PRODUCT, RENAMED))
        documented = await client.post("/virtual", json=_virtual(PRODUCT, DOCUMENTED))
        native = await client.post(f"/v1/tools/{FUNCTION}", json={"is_id": 7, "brandName": "Acme"})

    assert renamed.status_code == documented.status_code == native.status_code == 200
    assert renamed.json()["error"] == ""
    assert documented.content == renamed.content
    assert native.json() == renamed.json()
    assert native.headers["x-toolsim-cached"] == "true"
    # Simulated once, under the documented names, with the documented types.
    assert [call.arguments for call in fake.calls] == [{"ID": 7, "brandName": "Acme"}]


async def test_missing_parameter_names_both_spellings(make, connect):
    async with connect(make()) as client:
        reply = await client.post("/virtual", json=_virtual(PRODUCT, {"brandname": "Acme"}))

    assert reply.status_code == 200
    assert "missing required parameter 'ID', or 'is_id' (NUMBER)" in reply.json()["error"]


async def test_a_collision_is_refused_clearly_at_request_time(make, connect):
    async with connect(make()) as client:
        virtual = await client.post("/virtual", json=_virtual(CLASH, {"query": "shoes"}))
        native = await client.post("/v1/tools/clash_for_brand_finder", json={"query": "shoes"})
        documented = await client.post("/v1/tools/clash_for_brand_finder", json={"Query": "x"})

    message = "parameter 'query' is ambiguous: StableToolBench's name for both 'Query' and 'query!'"
    assert virtual.status_code == 200
    assert message in virtual.json()["error"]
    assert native.status_code == 422
    assert message in native.json()["error"]["message"]
    assert documented.status_code == 200


async def test_both_spellings_with_different_values_are_refused(make, connect):
    async with connect(make()) as client:
        same = await client.post("/virtual", json=_virtual(PRODUCT, {**DOCUMENTED, "is_id": "7"}))
        differ = await client.post("/virtual", json=_virtual(PRODUCT, {**DOCUMENTED, "is_id": 8}))

    assert same.json()["error"] == ""
    assert "'ID' was sent twice, also as 'is_id', with different values" in differ.json()["error"]


async def test_tools_listing_in_either_naming(make, connect):
    async with connect(make()) as client:
        documented = (await client.get("/v1/tools")).json()["tools"]
        stb = (await client.get("/v1/tools", params={"param_names": "stb"})).json()["tools"]
        bad = await client.get("/v1/tools", params={"param_names": "camel"})

    by_name = {tool["function"]["name"]: tool["function"] for tool in documented}
    stb_by_name = {tool["function"]["name"]: tool["function"] for tool in stb}
    assert list(by_name[FUNCTION]["parameters"]["properties"]) == [
        "ID",
        "brandName",
        "Phone-Id",
        "NUMBER",
    ]
    product = stb_by_name[FUNCTION]["parameters"]
    assert list(product["properties"]) == ["is_id", "brandname", "phone_id", "number"]
    assert product["required"] == ["is_id", "brandname"]
    assert product["properties"]["is_id"]["description"] == "the ID"
    # As the reference client showed it: no required parameter, so no optional ones either.
    assert stb_by_name["clash_for_brand_finder"]["parameters"]["properties"] == {}
    assert bad.status_code == 422


async def test_replay_miss_says_how_client_names_were_read(make, connect):
    recorder = make()
    async with connect(recorder) as client:
        await client.post("/virtual", json=_virtual(PRODUCT, DOCUMENTED))
    recorder.state.service.backend.close()
    async with connect(make(cache={"mode": "replay"})) as client:
        hit = await client.post("/virtual", json=_virtual(PRODUCT, RENAMED))
        miss = await client.post("/virtual", json=_virtual(PRODUCT, {**RENAMED, "is_id": 8}))

    assert hit.json()["error"] == ""
    error = miss.json()["error"]
    assert "{'ID': 8, 'brandName': 'Acme'}" in error
    assert "(StableToolBench names read as: is_id -> ID, brandname -> brandName)" in error
    assert "closest: {'ID': 7, 'brandName': 'Acme'} (differs in: ID)" in error


async def test_reference_cache_with_renamed_keys_replays_for_both_spellings(
    make, connect, query_file, tmp_path
):
    # A reference cache is keyed by what StableToolBench's clients sent: renamed names.
    folder = tmp_path / "tool_response_cache" / "Commerce" / "brand_finder_for_Commerce"
    folder.mkdir(parents=True)
    replies = {
        "{'is_id': 7, 'brandname': 'Acme'}": {"error": "", "response": {"name": "Acme Anvil"}},
        "{'is_id': '9', 'brandname': 'Acme', 'phone_id': 'x1'}": {"error": "", "response": "p"},
    }
    (folder / "product_by_id.json").write_text(json.dumps(replies))
    app = make(cache={"mode": "replay"})
    report = import_reference(
        app.state.service.backend,
        tmp_path / "tool_response_cache",
        Catalog.from_paths([query_file]),
    )
    assert (report.entries, report.unknown_apis, report.skipped) == (2, 0, 0)

    async with connect(app) as client:
        calls = [
            _virtual(PRODUCT, {"is_id": 7, "brandname": "Acme"}),
            _virtual(PRODUCT, {"ID": "7", "brandName": "Acme"}),
            _virtual(PRODUCT, {"brandName": "Acme", "ID": 9, "Phone-Id": "x1"}),
            _virtual(PRODUCT, {"brandname": "Acme", "is_id": 9, "phone_id": "x1"}),
        ]
        replies_seen = [(await client.post("/virtual", json=body)).json() for body in calls]

    assert replies_seen[0] == replies_seen[1] == {"error": "", "response": {"name": "Acme Anvil"}}
    assert replies_seen[2] == replies_seen[3] == {"error": "", "response": "p"}
    api = app.state.service.catalog.by_function(FUNCTION)
    stored = app.state.service.backend.get(cache_key(api, {"ID": 7, "brandName": "Acme"}))
    assert stored.origin_key == "{'is_id': 7, 'brandname': 'Acme'}"  # exported back as it came


@pytest.fixture
def served(query_file: Path, tmp_path: Path) -> Iterator[str]:
    """The app on the alias queries under uvicorn (MCP needs the lifespan); yields /mcp's URL."""
    app = create_app(
        Settings(home=tmp_path / "home", tools=[str(query_file)], simulator={"backend": "schema"})
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_config=None, log_level="warning", timeout_graceful_shutdown=5)
    server = ReadyServer(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        assert server.ready.wait(20), "the toolsim server did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()
        app.state.service.backend.close()


async def test_mcp_calls_accept_either_spelling(served: str):
    async with streamable_http_client(served) as (read, write), ClientSession(read, write) as mcp:
        await mcp.initialize()
        renamed = await mcp.call_tool(FUNCTION, {"is_id": 7, "brandname": "Acme"})
        documented = await mcp.call_tool(FUNCTION, DOCUMENTED)

    assert not renamed.is_error and not documented.is_error
    assert renamed.content[0].text == documented.content[0].text
    assert json.loads(renamed.content[0].text)["error"] == ""

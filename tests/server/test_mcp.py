"""``/mcp`` through the MCP SDK's own clients, against a real uvicorn server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from mcp import Client, ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from support import serving

from toolsim.catalog.tool_schemas import function_schema
from toolsim.server import create_app
from toolsim.settings import Settings

WEATHER = "current_weather_for_skycast_weather"
QUOTE = "stock_quote_for_market_pulse"
OSLO_VIRTUAL = {
    "category": "Weather",
    "tool_name": "SkyCast Weather",
    "api_name": "Current Weather",
    "tool_input": {"city": "Oslo"},
}


@dataclass
class Served:
    app: FastAPI
    base_url: str

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """The toolsim app (example suite, schema simulator) under uvicorn on a free loopback port."""
    app = create_app(Settings(home=tmp_path, tools=["example"], simulator={"backend": "schema"}))
    with serving(app) as base_url:
        yield Served(app, base_url)


@asynccontextmanager
async def session(url: str) -> AsyncIterator[ClientSession]:
    """An initialized MCP session (handshake protocol) on ``url``."""
    async with streamable_http_client(url) as (read, write), ClientSession(read, write) as mcp:
        await mcp.initialize()
        yield mcp


async def test_lists_every_catalog_api_as_a_tool(served: Served):
    catalog = served.app.state.service.catalog
    async with streamable_http_client(served.mcp_url) as (read, write):
        async with ClientSession(read, write) as mcp:
            init = await mcp.initialize()
            tools = (await mcp.list_tools()).tools

    assert init.protocol_version in HANDSHAKE_PROTOCOL_VERSIONS
    assert init.server_info.name == "toolsim"
    assert init.capabilities.tools is not None
    assert len(tools) == 19
    assert {t.name for t in tools} == {api.function_name for api in catalog}
    quote = next(t for t in tools if t.name == QUOTE)
    expected = function_schema(catalog.by_function(QUOTE))
    assert quote.input_schema == expected["parameters"]
    assert quote.input_schema["required"] == ["symbol"]
    assert quote.description == expected["description"]


async def test_scoped_listing_offers_exactly_the_querys_apis(served: Served):
    catalog = served.app.state.service.catalog
    query = catalog.query("example", "1")
    wanted = {catalog.resolve(a.category, a.tool_name, a.name).function_name for a in query.apis}

    async with session(f"{served.mcp_url}?group=example&query_id=1") as mcp:
        tools = (await mcp.list_tools()).tools

    assert sorted(t.name for t in tools) == sorted(wanted)
    assert len(tools) == len(query.apis) == 4


async def test_a_half_scope_or_unknown_query_is_a_protocol_error(served: Served):
    async with session(f"{served.mcp_url}?group=example") as mcp:
        with pytest.raises(MCPError, match="both 'group' and 'query_id'"):
            await mcp.list_tools()
    async with session(f"{served.mcp_url}?group=example&query_id=999") as mcp:
        with pytest.raises(MCPError, match="unknown query '999'"):
            await mcp.list_tools()


async def test_calling_twice_gives_the_same_reply_the_second_from_the_cache(served: Served):
    async with session(served.mcp_url) as mcp:
        first = await mcp.call_tool(WEATHER, {"city": "Oslo"})
        second = await mcp.call_tool(WEATHER, {"city": "Oslo"})
    async with httpx.AsyncClient(base_url=served.base_url) as http:
        stats = (await http.get("/stats")).json()["since_start"]
        virtual = await http.post("/virtual", json=OSLO_VIRTUAL)

    assert not first.is_error and not second.is_error
    assert len(first.content) == 1 and first.content[0].type == "text"
    assert first.content[0].text == second.content[0].text
    reply = json.loads(first.content[0].text)
    assert set(reply) == {"error", "response"}
    assert reply["error"] == ""
    assert (stats["misses"], stats["hits"]) == (1, 1)
    assert stats["per_api"][WEATHER] == {"hits": 1, "misses": 1, "errors": 0}
    # The same cache entry answers /virtual.
    assert virtual.json() == reply


async def test_invalid_arguments_are_a_tool_error_naming_the_parameter(served: Served):
    async with session(served.mcp_url) as mcp:
        result = await mcp.call_tool(QUOTE, {"exchange": "NYSE"})

    assert result.is_error
    assert "symbol" in result.content[0].text
    service = served.app.state.service
    assert service.stats.snapshot(service.backend)["since_start"]["errors"] == 1


async def test_an_unknown_tool_is_a_tool_error(served: Served):
    async with session(served.mcp_url) as mcp:
        result = await mcp.call_tool("no_such_function_for_anything", {})

    assert result.is_error
    assert "unknown function 'no_such_function_for_anything'" in result.content[0].text


async def test_a_scoped_call_refuses_apis_outside_the_query(served: Served):
    async with session(f"{served.mcp_url}?group=example&query_id=1") as mcp:
        outside = await mcp.call_tool(QUOTE, {"symbol": "ACME"})
        inside = await mcp.call_tool(WEATHER, {"city": "Oslo"})

    assert outside.is_error and "unknown function" in outside.content[0].text
    assert not inside.is_error


async def test_the_modern_protocol_client_lists_and_calls_too(served: Served):
    # mcp.Client negotiates the newest protocol, served per request by another SDK path.
    async with Client(f"{served.mcp_url}?group=example&query_id=1") as client:
        tools = (await client.list_tools()).tools
        result = await client.call_tool(WEATHER, {"city": "Bergen"})
        bad = await client.call_tool(WEATHER, {})
        version = client.protocol_version

    assert version in MODERN_PROTOCOL_VERSIONS
    assert len(tools) == 4
    assert not result.is_error
    assert json.loads(result.content[0].text)["error"] == ""
    assert bad.is_error and "city" in bad.content[0].text


async def test_without_the_lifespan_mcp_answers_503(tmp_path: Path):
    app = create_app(Settings(home=tmp_path, tools=["example"], simulator={"backend": "schema"}))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            reply = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    finally:
        app.state.service.backend.close()

    assert reply.status_code == 503
    assert "lifespan" in reply.json()["error"]["message"]

"""The tool client: StableToolBench ``/virtual`` calls, provenance, failures as observations."""

from __future__ import annotations

import json

import httpx
import pytest

from toolsim.agent.queries import load_queries
from toolsim.agent.tools import ToolClient, open_tools, server_base
from toolsim.errors import UserError


@pytest.fixture
def catalog_and_api():
    catalog, (query,) = load_queries(["example"], ["1"])
    return catalog, query.apis[0]


async def test_replies_say_where_they_came_from(settings, catalog_and_api):
    catalog, api = catalog_and_api
    async with open_tools(settings, catalog, None, timeout=30) as tools:
        first = await tools.call(api, {"city": "Lisbon"})
        again = await tools.call(api, {"city": "Lisbon"})
        bad = await tools.call(api, {})

    assert first.source == "simulated" and again.source == "cache"
    assert first.response == again.response and first.response["city"] == "Lisbon"
    assert "missing required parameter 'city'" in bad.error and bad.answered
    text = first.observation(40)
    assert len(text) == 40 and text.startswith('{"error": "", "response": {')


async def test_an_error_inside_the_in_process_server_comes_out_as_raised(settings, catalog_and_api):
    catalog, _ = catalog_and_api
    with pytest.raises(UserError, match="^refused$"):  # not wrapped in an exception group
        async with open_tools(settings, catalog, None, timeout=30) as tools:
            assert tools.faults is None  # no fault profile
            raise UserError("refused")


async def test_transport_failures_become_error_replies(catalog_and_api):
    _, api = catalog_and_api

    def broken(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content)["tool_input"] == '{"city": "Oslo"}'
        return httpx.Response(502, text="bad gateway")

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(broken), base_url="http://x"
    ) as http:
        reply = await ToolClient(http).call(api, {"city": "Oslo"})

    assert not reply.answered and "HTTP 502" in reply.error and reply.source == "none"


def test_server_urls():
    assert server_base("http://h:8080/virtual/") == "http://h:8080"
    assert server_base(" https://h ") == "https://h"
    with pytest.raises(UserError):
        server_base("h:8080")

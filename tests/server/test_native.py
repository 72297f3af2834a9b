"""The native REST API: OpenAI tool schemas, and calls by function name."""

from __future__ import annotations

import json

import pytest

from toolsim.settings import ONE_MIB

FX = "/v1/tools/convertcurrency_for_quick_fx_rates"
FX_ARGS = {"amount": 100, "base": "USD", "target": "EUR"}


def _names(reply) -> list[str]:
    return [tool["function"]["name"] for tool in reply.json()["tools"]]


def _error(reply, status: int, kind: str | None = None) -> dict:
    assert reply.status_code == status
    error = reply.json()["error"]
    assert set(error) == {"type", "message", "details"}
    if kind is not None:
        assert error["type"] == kind
    return error


async def test_list_tools_gives_a_schema_for_every_api(client, app):
    reply = await client.get("/v1/tools")

    assert reply.status_code == 200
    tools = reply.json()["tools"]
    assert sorted(_names(reply)) == sorted(api.function_name for api in app.state.service.catalog)
    assert len(tools) == 19
    assert all(tool["type"] == "function" for tool in tools)
    [fx] = [t["function"] for t in tools if t["function"]["name"] == FX.rsplit("/", 1)[1]]
    assert fx["parameters"]["type"] == "object"
    assert fx["parameters"]["required"] == ["amount", "base", "target"]
    assert fx["parameters"]["properties"]["amount"]["type"] == "number"
    assert set(fx["parameters"]["properties"]) == {"amount", "base", "target", "round_to"}
    assert "convertCurrency" in fx["description"]


@pytest.mark.parametrize(
    ("tools", "expected"),
    [
        ("Quick FX Rates", {"convertcurrency", "latestrates", "historicalrate"}),
        ("quick_fx_rates", {"convertcurrency", "latestrates", "historicalrate"}),
        (
            "Quick FX Rates, SkyCast Weather",
            {
                "convertcurrency",
                "latestrates",
                "historicalrate",
                "current_weather",
                "get_5_day_forecast",
                "air_quality_index",
            },
        ),
    ],
)
async def test_list_tools_filters_by_tool(client, tools, expected):
    reply = await client.get("/v1/tools", params={"tools": tools})

    assert reply.status_code == 200
    assert {name.split("_for_")[0] for name in _names(reply)} == expected


async def test_list_tools_for_one_query(client, app):
    reply = await client.get("/v1/tools", params={"group": "example", "query_id": "1"})

    assert reply.status_code == 200
    query = app.state.service.catalog.query("example", "1")
    assert _names(reply) == [api.function_name for api in query.apis]
    assert _names(reply) == [
        "current_weather_for_skycast_weather",
        "get_5_day_forecast_for_skycast_weather",
        "air_quality_index_for_skycast_weather",
        "latestrates_for_quick_fx_rates",
    ]


async def test_query_and_tool_filters_combine(client):
    params = {"group": "example", "query_id": "1", "tools": "Quick FX Rates"}

    reply = await client.get("/v1/tools", params=params)

    assert _names(reply) == ["latestrates_for_quick_fx_rates"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"tools": "Nimbus Weather"}, 404),
        ({"tools": "SkyCast Weather,Nimbus Weather"}, 404),
        ({"group": "example", "query_id": "9999"}, 404),
        ({"group": "G9_unknown", "query_id": "1"}, 404),
        ({"group": "example"}, 400),
        ({"query_id": "1"}, 400),
        ({"tools": ""}, 400),
        ({"tools": " , "}, 400),
        ({"tools": "../etc"}, 400),
        ({"group": "ex\x00ample", "query_id": "1"}, 400),
    ],
    ids=[
        "unknown-tool",
        "one-unknown-tool",
        "unknown-query",
        "unknown-group",
        "group-without-query",
        "query-without-group",
        "empty-tools",
        "blank-tools",
        "dotdot-tool",
        "nul-group",
    ],
)
async def test_list_tools_errors(client, params, status):
    reply = await client.get("/v1/tools", params=params)

    error = _error(reply, status)
    assert error["message"]


async def test_call_by_function_name(client, fake):
    first = await client.post(FX, json=FX_ARGS)
    second = await client.post(FX, json={"target": "EUR", "amount": "100", "base": "USD"})

    assert first.status_code == 200
    assert first.json() == {"error": "", "response": {"call": 1, "arguments": FX_ARGS}}
    assert first.headers["x-toolsim-cached"] == "false"
    assert first.headers["x-toolsim-source"] == "simulated"
    assert second.content == first.content
    assert second.headers["x-toolsim-cached"] == "true"
    assert len(fake.calls) == 1


async def test_native_and_virtual_share_the_cache(client, fake):
    native = await client.post(FX, json=FX_ARGS)
    virtual = await client.post(
        "/virtual",
        json={
            "category": "Finance",
            "tool_name": "Quick FX Rates",
            "api_name": "convertCurrency",
            "tool_input": json.dumps(FX_ARGS),
        },
    )

    assert virtual.json() == native.json()
    assert len(fake.calls) == 1


async def test_call_scoped_to_a_query(client, fake):
    inside = await client.post(
        "/v1/tools/latestrates_for_quick_fx_rates",
        params={"group": "example", "query_id": "1"},
        json={"base": "GBP"},
    )
    outside = await client.post(FX, params={"group": "example", "query_id": "1"}, json=FX_ARGS)

    assert inside.status_code == 200
    _error(outside, 404, "tool_not_found")
    assert len(fake.calls) == 1


async def test_unknown_function_is_404(client, fake):
    reply = await client.post("/v1/tools/teleport_for_quick_fx_rates", json={})

    error = _error(reply, 404, "tool_not_found")
    assert "teleport_for_quick_fx_rates" in error["message"]
    assert fake.calls == []


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"base": "USD", "target": "EUR"}, "amount"),
        ({"amount": "a lot", "base": "USD", "target": "EUR"}, "amount"),
        ({**FX_ARGS, "round_to": "two"}, "round_to"),
    ],
    ids=["missing", "not-a-number", "optional-not-a-number"],
)
async def test_invalid_arguments_are_422(client, fake, arguments, named):
    reply = await client.post(FX, json=arguments)

    error = _error(reply, 422, "invalid_arguments")
    [problem] = error["details"]["problems"]
    assert f"'{named}'" in problem
    assert fake.calls == []


@pytest.mark.parametrize(
    "content",
    [b"[1, 2]", b'"amount"', b"5", b"null", b'{"amount": ', b"", b"\xff"],
    ids=["list", "string", "number", "null", "malformed", "empty", "not-utf8"],
)
async def test_body_must_be_a_json_object(client, fake, content):
    reply = await client.post(FX, content=content, headers={"content-type": "application/json"})

    _error(reply, 400, "bad_request")
    assert fake.calls == []
    assert (await client.post(FX, json=FX_ARGS)).status_code == 200


async def test_body_over_the_limit_is_413(client, fake):
    reply = await client.post(FX, json={**FX_ARGS, "pad": "x" * ONE_MIB})

    _error(reply, 413, "payload_too_large")
    assert fake.calls == []
    assert (await client.post(FX, json=FX_ARGS)).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/v1/tools/a..b",
        "/v1/tools/%2e%2e",
        "/v1/tools/..%2f..%2fetc%2fpasswd",
        "/v1/tools/%2e%2e%2fconvertcurrency_for_quick_fx_rates",
        "/v1/tools/convertcurrency%00_for_quick_fx_rates",
        "/v1/tools/convert%0acurrency",
        "/v1/tools/" + "f" * 10_000,
    ],
)
async def test_hostile_function_names_are_refused(client, fake, path):
    reply = await client.post(path, json=FX_ARGS)

    assert reply.status_code in (400, 404)
    _error(reply, reply.status_code)
    assert fake.calls == []
    assert (await client.post(FX, json=FX_ARGS)).status_code == 200


async def test_failures_are_not_answered_with_200(client, fake):
    fake.outcomes.append(RuntimeError("boom"))

    reply = await client.post(FX, json=FX_ARGS)

    error = _error(reply, 502, "upstream_error")
    assert "boom" in error["message"]

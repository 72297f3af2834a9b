"""POST /virtual: the StableToolBench protocol, including every way to call it badly."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from toolsim.cache.entry import Reply
from toolsim.settings import ONE_MIB

WEATHER = {"category": "Weather", "tool_name": "SkyCast Weather", "api_name": "Current Weather"}
FX = {"category": "Finance", "tool_name": "Quick FX Rates", "api_name": "convertCurrency"}
RECIPE = {"category": "Food", "tool_name": "Open Recipes Hub", "api_name": "getRecipeDetails"}
RANDOM_RECIPE = {"category": "Food", "tool_name": "Open Recipes Hub", "api_name": "Random Recipe"}


def _body(names: dict[str, str], tool_input: Any = "", **extra: Any) -> dict[str, Any]:
    return {**names, "tool_input": tool_input, "strip": "filter", "toolbench_key": "x", **extra}


async def _ok(client: httpx.AsyncClient) -> None:
    """The server still answers a good call."""
    reply = await client.post("/virtual", json=_body(WEATHER, '{"city": "Porto"}'))
    assert reply.status_code == 200
    assert reply.json()["error"] == ""


def _assert_reply_shape(reply: httpx.Response) -> dict[str, Any]:
    body = reply.json()
    assert set(body) == {"error", "response"}
    assert isinstance(body["error"], str)
    return body


async def test_call_returns_the_reply_shape(client, fake):
    reply = await client.post("/virtual", json=_body(WEATHER, '{"city": "Lisbon"}'))

    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.json() == {"error": "", "response": {"call": 1, "arguments": {"city": "Lisbon"}}}


async def test_schema_simulator_answers_by_default(make_app, connect):
    async with connect(make_app(simulator={"backend": "schema"})) as client:
        reply = await client.post("/virtual", json=_body(WEATHER, '{"city": "Lisbon"}'))

    body = _assert_reply_shape(reply)
    assert reply.status_code == 200
    assert body["error"] == ""
    assert body["response"]["city"] == "Lisbon"


async def test_same_call_twice_is_a_hit(client, fake):
    first = await client.post("/virtual", json=_body(WEATHER, '{"city": "Lisbon"}'))
    second = await client.post("/virtual", json=_body(WEATHER, '{"city": "Lisbon"}'))

    assert second.content == first.content
    assert len(fake.calls) == 1
    counts = (await client.get("/stats")).json()["since_start"]
    assert (counts["hits"], counts["misses"]) == (1, 1)


async def test_reordered_arguments_and_numeric_strings_are_the_same_call(client, fake):
    first = await client.post(
        "/virtual", json=_body(FX, '{"amount": "5", "base": "USD", "target": "EUR"}')
    )
    second = await client.post(
        "/virtual", json=_body(FX, {"target": "EUR", "base": "USD", "amount": 5})
    )

    assert first.json()["error"] == ""
    assert second.content == first.content
    assert len(fake.calls) == 1
    assert fake.calls[0].arguments == {"amount": 5, "base": "USD", "target": "EUR"}


@pytest.mark.parametrize(
    "tool_input",
    [
        '{"city": "Lisbon"}',
        {"city": "Lisbon"},
        "{'city': 'Lisbon'}",  # repr() of a dict, as Python clients send
        ' {"city": "Lisbon"} ',
    ],
    ids=["json-string", "object", "python-repr", "padded"],
)
async def test_tool_input_forms(client, fake, tool_input):
    reply = await client.post("/virtual", json=_body(WEATHER, tool_input))

    assert reply.status_code == 200
    assert reply.json()["error"] == ""
    assert [call.arguments for call in fake.calls] == [{"city": "Lisbon"}]


@pytest.mark.parametrize("tool_input", ["", None, "null", {}], ids=["empty", "none", "null", "{}"])
async def test_empty_tool_input_means_no_arguments(client, fake, tool_input):
    reply = await client.post("/virtual", json=_body(RANDOM_RECIPE, tool_input))

    assert reply.status_code == 200
    assert reply.json()["error"] == ""
    assert [call.arguments for call in fake.calls] == [{}]


async def test_python_repr_with_a_huge_integer_is_accepted(client, fake):
    tool_input = "{'city': 'Lisbon', 'population': 1180591620717411303424}"

    reply = await client.post("/virtual", json=_body(WEATHER, tool_input))

    assert reply.status_code == 200
    assert reply.json()["error"] == ""
    assert len(fake.calls) == 1


async def test_missing_tool_input_means_no_arguments(client, fake):
    reply = await client.post("/virtual", json=RANDOM_RECIPE)

    assert reply.json()["error"] == ""
    assert [call.arguments for call in fake.calls] == [{}]


async def test_full_function_name_in_api_name(client, fake):
    by_name = await client.post("/virtual", json=_body(WEATHER, '{"city": "Lisbon"}'))
    by_function = await client.post(
        "/virtual",
        json=_body(
            {**WEATHER, "api_name": "current_weather_for_skycast_weather"}, {"city": "Lisbon"}
        ),
    )

    assert by_function.status_code == 200
    assert by_function.content == by_name.content
    assert len(fake.calls) == 1


@pytest.mark.parametrize(
    ("names", "tool_input", "words"),
    [
        (WEATHER, "{}", ["missing", "'city'"]),
        (WEATHER, '{"units": "metric"}', ["missing", "'city'"]),
        (WEATHER, '{"city": null}', ["missing", "'city'"]),
        (FX, '{"amount": "lots", "base": "USD", "target": "EUR"}', ["'amount'", "number"]),
        (FX, '{"amount": true, "base": "USD", "target": "EUR"}', ["'amount'", "number"]),
        (FX, '{"amount": "1e999", "base": "USD", "target": "EUR"}', ["'amount'", "number"]),
        (RECIPE, '{"recipe_id": 7, "include_nutrition": "yes"}', ["'include_nutrition'"]),
    ],
    ids=[
        "no-args",
        "only-optional",
        "null",
        "word-for-number",
        "bool-for-number",
        "infinity",
        "word-for-boolean",
    ],
)
async def test_invalid_arguments_are_an_api_error_without_simulating(
    client, fake, names, tool_input, words
):
    reply = await client.post("/virtual", json=_body(names, tool_input))

    assert reply.status_code == 200
    body = _assert_reply_shape(reply)
    for word in words:
        assert word in body["error"]
    assert body["response"] == ""
    assert fake.calls == []
    await _ok(client)


@pytest.mark.parametrize(
    "tool_input",
    [
        '{"recipe_id": "99999999999999999999"}',  # beyond 64 bits, still a number
        '{"recipe_id": " 42 ", "include_nutrition": "1"}',
        '{"recipe_id": 42.5, "include_nutrition": 0}',
        '{"recipe_id": "-3", "include_nutrition": "False"}',
    ],
    ids=["huge-integer", "padded-and-1", "float-and-0", "negative-and-False"],
)
async def test_documented_spellings_of_numbers_and_flags_are_accepted(client, fake, tool_input):
    reply = await client.post("/virtual", json=_body(RECIPE, tool_input))

    assert reply.status_code == 200
    assert reply.json()["error"] == ""
    assert len(fake.calls) == 1


@pytest.mark.parametrize(
    ("names", "named"),
    [
        ({**WEATHER, "tool_name": "Nimbus Weather"}, "Nimbus Weather"),
        ({**WEATHER, "api_name": "Pollen Count"}, "Pollen Count"),
    ],
    ids=["unknown-tool", "unknown-api"],
)
async def test_unknown_names_are_an_api_error(client, fake, names, named):
    reply = await client.post("/virtual", json=_body(names, '{"city": "Lisbon"}'))

    assert reply.status_code == 200
    body = _assert_reply_shape(reply)
    assert named in body["error"]
    assert fake.calls == []
    await _ok(client)


async def test_wrong_category_is_forgiven(client, fake):
    reply = await client.post(
        "/virtual", json=_body({**WEATHER, "category": "Sports"}, '{"city": "Lisbon"}')
    )

    assert reply.json()["error"] == ""
    assert len(fake.calls) == 1


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


@pytest.mark.parametrize(
    "content",
    [
        b'{"category": "Weather", "tool_name": ',
        b"",
        b"\xff\xfe not utf-8",
        _json([WEATHER]),
        _json("a string"),
        _json(_body({**WEATHER, "tool_name": "../../etc/passwd"})),
        _json(_body({**WEATHER, "api_name": "Current\x00Weather"})),
        _json(_body({**WEATHER, "category": "Weather\r\nX-Injected: 1"})),
        _json(_body({**WEATHER, "tool_name": "\x1b[31mSkyCast"})),
        _json(_body({**WEATHER, "tool_name": "S" * 10_000})),
        _json(_body({**WEATHER, "tool_name": 5})),
        _json(_body({**WEATHER, "tool_name": ""})),
        _json({"category": "Weather", "api_name": "Current Weather"}),
    ],
    ids=[
        "malformed-json",
        "empty-body",
        "not-utf8",
        "list-body",
        "string-body",
        "dotdot-name",
        "nul-name",
        "crlf-name",
        "escape-name",
        "10kb-name",
        "number-name",
        "empty-name",
        "missing-name",
    ],
)
async def test_requests_that_are_not_tool_calls_are_400_in_reply_shape(client, fake, content):
    reply = await client.post(
        "/virtual", content=content, headers={"content-type": "application/json"}
    )

    assert reply.status_code == 400
    body = _assert_reply_shape(reply)
    assert body["error"]
    assert fake.calls == []
    await _ok(client)


@pytest.mark.parametrize(
    ("tool_input", "shown"),
    [
        ("[1, 2]", "'[1, 2]'"),
        ([1, 2], "'[1, 2]'"),
        (5, "'5'"),
        ("5", "'5'"),
        ("query=cats", "'query=cats'"),
        ('{"city": "Lis', '\'{"city": "Lis\''),
        ("{'city': {1, 2}}", "{1, 2}"),  # a Python set: no JSON value
        ("{'city': b'Lisbon'}", "b'Lisbon'"),
        ("{'city': 'Lisbon', ('a', 1): 2}", "('a', 1)"),
        ("{'city': 2 ** 70}", "2 ** 70"),
        ('{"city": "' + "x" * 500, "xxx..."),
    ],
    ids=[
        "json-list",
        "list",
        "number",
        "json-number",
        "query-string",
        "truncated-json",
        "python-set",
        "python-bytes",
        "python-tuple-key",
        "python-expression",
        "long",
    ],
)
async def test_unparsable_tool_input_is_an_api_error_quoting_it(client, fake, tool_input, shown):
    # The reference client hides the body of any non-200 reply: a 200 lets the agent read why.
    reply = await client.post("/virtual", json=_body(WEATHER, tool_input))

    assert reply.status_code == 200
    body = _assert_reply_shape(reply)
    assert body["response"] == ""
    assert "tool_input" in body["error"]
    assert shown in body["error"]
    assert len(body["error"]) < 250  # the offending text is cut short
    assert fake.calls == []
    await _ok(client)


async def test_body_over_the_limit_is_413_and_the_server_goes_on(client, fake):
    big = _json(_body(WEATHER, {"city": "x" * ONE_MIB}))

    reply = await client.post("/virtual", content=big)

    assert reply.status_code == 413
    assert _assert_reply_shape(reply)["error"]
    assert fake.calls == []
    await _ok(client)


async def test_streamed_body_over_the_limit_is_413(client, fake):
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"category": "Weather", "tool_input": "'
        for _ in range(ONE_MIB // 65536 + 1):
            yield b"x" * 65536
        yield b'"}'

    reply = await client.post("/virtual", content=chunks())

    assert "content-length" not in reply.request.headers
    assert reply.status_code == 413
    assert _assert_reply_shape(reply)["error"]
    await _ok(client)


async def test_body_just_under_the_limit_is_served(client, fake):
    body = _json(_body(WEATHER, {"city": "Lisbon", "pad": ""}))
    pad = ONE_MIB - len(body)
    big = _json(_body(WEATHER, {"city": "Lisbon", "pad": "x" * pad}))
    assert len(big) == ONE_MIB

    reply = await client.post("/virtual", content=big)

    assert reply.status_code == 200
    assert reply.json()["error"] == ""


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_other_methods_are_405(client, method):
    reply = await client.request(method, "/virtual")

    assert reply.status_code == 405
    assert "POST" in reply.headers["allow"]
    assert _assert_reply_shape(reply)["error"]
    await _ok(client)


async def test_a_reply_holding_a_huge_integer_is_served(client, fake):
    fake.outcomes.append(Reply(response={"id": 2**70}))

    first = await client.post("/virtual", json=_body(WEATHER, '{"city": "Lisbon"}'))
    second = await client.post("/virtual", json=_body(WEATHER, '{"city": "Lisbon"}'))

    assert first.status_code == 200
    assert first.json() == {"error": "", "response": {"id": 2**70}}
    assert second.json() == first.json()

"""One JSON input policy at every door: depth, integers of any size, no NaN or Infinity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support import FX_FUNCTION

from toolsim.cache.keys import MAX_DEPTH, cache_key
from toolsim.cache.modes import CacheMode
from toolsim.cache.reference_format import import_reference
from toolsim.errors import BadRequest
from toolsim.server.requests import check_values, loads

FX = {"category": "Finance", "tool_name": "Quick FX Rates", "api_name": "ConvertCurrency"}
WEATHER = {"category": "Weather", "tool_name": "SkyCast Weather", "api_name": "Current Weather"}
BIG = 12345345483453456434354131


def _nested(levels: int) -> Any:
    """A value of ``levels`` nested lists."""
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def _nested_json(levels: int) -> str:
    """:func:`_nested` as JSON text (the standard library cannot write it that deep)."""
    return "[" * levels + "1" + "]" * levels


def _virtual(arguments_json: str, *, as_string: bool = False) -> bytes:
    tool_input = json.dumps(arguments_json) if as_string else arguments_json
    head = json.dumps(WEATHER)[:-1]
    return f'{head}, "tool_input": {tool_input}}}'.encode()


@pytest.mark.parametrize("as_string", [False, True], ids=["object", "string"])
@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 1000, 1020])
async def test_arguments_too_deep_are_a_400_in_the_reply_shape(client, levels, as_string):
    # The arguments object is one level; "extra" holds the rest.
    body = _virtual(f'{{"city": "x", "extra": {_nested_json(levels - 1)}}}', as_string=as_string)
    reply = await client.post(
        "/virtual", content=body, headers={"content-type": "application/json"}
    )
    assert reply.status_code == 400
    assert reply.json() == {
        "error": f"the arguments are nested deeper than {MAX_DEPTH} levels",
        "response": "",
    }


async def test_arguments_at_the_depth_limit_are_answered(client):
    body = _virtual(f'{{"city": "x", "extra": {_nested_json(MAX_DEPTH - 1)}}}')
    reply = await client.post(
        "/virtual", content=body, headers={"content-type": "application/json"}
    )
    assert reply.status_code == 200 and reply.json()["error"] == ""


def test_every_door_draws_the_depth_limit_at_the_same_place():
    check_values({"extra": _nested(MAX_DEPTH - 1)})  # what /virtual answers
    with pytest.raises(BadRequest, match=f"deeper than {MAX_DEPTH} levels"):
        check_values({"extra": _nested(MAX_DEPTH)})


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_nan_and_infinity_are_refused_by_every_reader(token):
    with pytest.raises(ValueError):
        loads(f'{{"amount": {token}}}'.encode())
    with pytest.raises(BadRequest, match="not a JSON number"):
        check_values(json.loads(f'{{"amount": {token}}}'))  # as the MCP SDK would read it


def test_big_integers_are_read_exactly():
    assert loads(f'{{"n": {BIG}, "m": [1, {BIG}]}}'.encode()) == {"n": BIG, "m": [1, BIG]}
    assert loads(f'{{"n": {BIG}}}') == {"n": BIG}
    assert loads(b'{"s": "12345345483453456434354131", "x": 1.5}') == {
        "s": "12345345483453456434354131",
        "x": 1.5,
    }


async def test_a_recorded_call_with_a_big_integer_replays(make_app, connect, tmp_path: Path):
    # A reference cache records the call with its key as Python wrote it; replayed
    # over /virtual and /v1, the same call must find it (it was read as a float before).
    recorded = tmp_path / "reference" / "Finance" / "quick_fx_rates_for_Finance"
    recorded.mkdir(parents=True)
    key = repr({"amount": BIG, "base": "USD", "target": "EUR"})
    reply = {"error": "", "response": {"converted": 1}}
    (recorded / "convertcurrency.json").write_text(json.dumps({key: reply}))
    app = make_app(cache={"mode": CacheMode.REPLAY})
    service = app.state.service
    report = import_reference(service.backend, tmp_path / "reference", service.catalog)
    assert report.entries == 1
    arguments = f'{{"amount": {BIG}, "base": "USD", "target": "EUR"}}'
    async with connect(app) as client:
        virtual = await client.post(
            "/virtual",
            content=f'{json.dumps(FX)[:-1]}, "tool_input": {arguments}}}'.encode(),
            headers={"content-type": "application/json"},
        )
        native = await client.post(
            f"/v1/tools/{FX_FUNCTION}",
            content=arguments.encode(),
            headers={"content-type": "application/json"},
        )
    assert virtual.json() == reply
    assert native.status_code == 200 and native.json() == reply
    api = service.catalog.by_function(FX_FUNCTION)
    stored = service.key_call(api, {"amount": BIG, "base": "USD", "target": "EUR"}).key
    assert stored == cache_key(api, api.signature.canonical(loads(arguments)))


async def test_a_recorded_call_with_invalid_arguments_replays_as_recorded(
    make_app, connect, tmp_path: Path
):
    # The reference server replays whatever its cache recorded; a reference cache may
    # hold calls whose arguments break the documentation (here a number that is not one).
    recorded = tmp_path / "reference" / "Finance" / "quick_fx_rates_for_Finance"
    recorded.mkdir(parents=True)
    key = repr({"amount": "lots", "base": "USD", "target": "EUR"})
    reply = {"error": "", "response": {"converted": "many"}}
    (recorded / "convertcurrency.json").write_text(json.dumps({key: reply}))
    app = make_app(cache={"mode": CacheMode.REPLAY})
    service = app.state.service
    report = import_reference(service.backend, tmp_path / "reference", service.catalog)
    assert (report.entries, report.invalid_arguments) == (1, 1)  # said at import
    body = {**FX, "tool_input": {"amount": "lots", "base": "USD", "target": "EUR"}}
    other = {**FX, "tool_input": {"amount": "few", "base": "USD", "target": "EUR"}}
    async with connect(app) as client:
        replayed = await client.post("/virtual", json=body)
        native = await client.post(f"/v1/tools/{FX_FUNCTION}", json=body["tool_input"])
        refused = await client.post("/virtual", json=other)
    assert replayed.json() == reply and native.json() == reply
    problem = "parameter 'amount' must be a number, got 'lots'"
    assert problem in replayed.headers["x-toolsim-invalid-arguments"]
    assert problem in native.headers["x-toolsim-invalid-arguments"]
    assert "must be a number, got 'few'" in refused.json()["error"]  # not recorded: refused

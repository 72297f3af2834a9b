"""StableToolBench's own client, as its code builds requests, against a real toolsim server.

The reference RapidAPI environment wrapper shows the agent every API as a function
``<api>_for_<tool>`` whose parameters are renamed (``ID`` -> ``is_id``; optional ones
only when the API has a required one), finds the function a model names by the first
offered name that *ends with* it, and posts ``{category, tool_name, api_name,
tool_input, strip, toolbench_key}`` to ``/virtual``, turning any non-200 reply into a
generic "request invalid" error. This test rebuilds those requests (own code, same
rules) for every API of the shared query groups, as a model that fills every offered
parameter with its example value would, and checks that every API answers.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from support import ReadyServer

from toolsim.catalog import Catalog, standardize, standardize_api
from toolsim.server import create_app
from toolsim.settings import Settings

GROUPS = ["G1_category", "G1_instruction", "G1_tool", "G2_instruction"]
#: The reference client's parameter types; anything else is shown as a string.
TYPES = {"NUMBER": "integer", "STRING": "string", "BOOLEAN": "boolean"}

pytestmark = pytest.mark.shared_data


@dataclass(frozen=True)
class Offered:
    """One function as the reference wrapper offers it, with what its payload needs."""

    name: str
    category: str
    tool: str
    api: str
    properties: dict[str, dict[str, Any]]
    key: tuple[str, str, str]  # (category, tool, api) as written in the query file


def offered_functions(query: dict[str, Any]) -> list[Offered]:
    """The functions of one query, built by the reference wrapper's rules."""
    functions = []
    for api in query["api_list"]:
        tool = standardize(api["tool_name"])  # the tool file's name in the reference layout
        pure = standardize_api(api["api_name"])
        properties: dict[str, dict[str, Any]] = {}
        if api["required_parameters"]:  # optional ones are only shown alongside required ones
            for param in [*api["required_parameters"], *api["optional_parameters"]]:
                shown = {"type": TYPES.get(param["type"], "string")}
                if len(str(param["default"])) != 0:
                    shown["example_value"] = param["default"]
                properties[standardize_api(param["name"])] = shown
        functions.append(
            Offered(
                name=f"{pure}_for_{tool}"[-64:],
                category=api["category_name"],
                tool=tool,
                api=pure,
                properties=properties,
                key=(api["category_name"], api["tool_name"], api["api_name"]),
            )
        )
    return functions


def _fits(value: Any, kind: str) -> bool:
    text = str(value).strip().lower()
    if kind == "integer":
        return text.lstrip("+-").replace(".", "", 1).isdigit()
    if kind == "boolean":
        return text in ("true", "false", "0", "1")
    return True


def model_arguments(function: Offered) -> str:
    """What a model writes that fills every offered parameter: its example value, unless
    that does not fit the type (some are prose, like ``<0|1>``), then a value that does."""
    arguments = {}
    for name, shown in function.properties.items():
        value = shown.get("example_value", "")
        if not _fits(value, shown["type"]):
            value = {"integer": 1, "boolean": True}[shown["type"]]
        arguments[name] = value
    return json.dumps(arguments)


def pick(functions: list[Offered], action_name: str) -> Offered | None:
    """The reference wrapper's lookup: the first offered function ending with the name."""
    return next((f for f in functions if f.name.endswith(action_name)), None)


def send(http: httpx.Client, function: Offered, action_input: str) -> dict[str, Any]:
    """The wrapper's ``/virtual`` request; a non-200 reply becomes its generic error."""
    payload = {
        "category": function.category,
        "tool_name": function.tool,
        "api_name": function.api,
        "tool_input": action_input,
        "strip": "truncate",
        "toolbench_key": "",
    }
    reply = http.post("/virtual", json=payload, headers={"toolbench_key": ""})
    if reply.status_code != 200:
        return {"error": f"request invalid, data error. status_code={reply.status_code}"}
    return reply.json()


@pytest.fixture
def server(shared_data: Path, tmp_path: Path) -> Iterator[tuple[str, Catalog]]:
    """``toolsim serve`` over the shared groups (schema simulator) on a loopback port."""
    folder = shared_data / "stabletoolbench" / "solvable_queries" / "test_instruction"
    settings = Settings(
        home=tmp_path,
        tools=[str(folder / f"{group}.json") for group in GROUPS],
        simulator={"backend": "schema"},
    )
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False)
    served = ReadyServer(config)
    thread = threading.Thread(target=served.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        assert served.ready.wait(60), "the toolsim server did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", app.state.service.catalog
    finally:
        served.should_exit = True
        thread.join(20)
        sock.close()
        app.state.service.backend.close()


@pytest.mark.slow
def test_every_api_answers_the_reference_client(server, shared_data):
    base_url, catalog = server
    folder = shared_data / "stabletoolbench" / "solvable_queries" / "test_instruction"
    offered: set[tuple[str, str, str]] = set()
    answered: set[tuple[str, str, str]] = set()
    failures: dict[tuple[str, str, str], str] = {}
    calls = renamed_calls = 0
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for group in GROUPS:
            for query in json.loads((folder / f"{group}.json").read_text()):
                functions = offered_functions(query)
                offered.update(function.key for function in functions)
                for wanted in functions:
                    # The model names the function; the wrapper may pick another that ends so.
                    function = pick(functions, wanted.name)
                    assert function is not None
                    reply = send(http, function, model_arguments(function))
                    calls += 1
                    signature = catalog.resolve(*function.key).signature
                    renamed_calls += any(
                        signature.lookup(name).name != name for name in function.properties
                    )
                    if reply["error"]:
                        failures[function.key] = reply["error"]
                    else:
                        answered.add(function.key)
    reached = answered | set(failures)
    collisions = {
        api.function_name: api.signature.collisions for api in catalog if api.signature.collisions
    }
    print(
        f"\nreference client: {calls} calls ({renamed_calls} with renamed parameters); "
        f"{len(answered)} of the {len(reached)} APIs it can reach answered "
        f"({len(offered) - len(reached)} of {len(offered)} offered APIs are unreachable: another "
        f"offered name ends with theirs); parameter collisions: {collisions or 'none'}"
    )
    assert not failures, list(failures.items())[:10]
    assert renamed_calls > 500  # the renaming really was exercised
    assert len(answered) == len(reached) > 2000

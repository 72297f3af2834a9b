"""Tool replies recorded in answer files become replay entries and exemplars."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from answers.result_files import result_entry, write_results
from typer.testing import CliRunner

from toolsim.cache.entry import CacheEntry, Reply, Source
from toolsim.cache.keys import cache_key, normalize_arguments
from toolsim.cache.memory import MemoryBackend
from toolsim.cache.recorded import store_recorded
from toolsim.catalog import Catalog
from toolsim.cli import app
from toolsim.fidelity.recorded import RecordedCall
from toolsim.server import ToolService
from toolsim.simulator.exemplar import ExemplarSimulator
from toolsim.simulator.schema import SchemaSimulator

CATALOG = Catalog.from_paths(["example"])
WEATHER = "current_weather_for_skycast_weather"
OSLO = {"city": "Oslo", "temperature": 3.5, "condition": "snow"}


def _call(arguments: dict[str, Any], reply: Reply, function: str = WEATHER) -> RecordedCall:
    return RecordedCall(function, arguments, reply, "answers.json#1")


def _key(arguments: dict[str, Any]) -> str:
    api = CATALOG.by_function(WEATHER)
    return cache_key(api, normalize_arguments(api, arguments))


def test_recorded_replies_are_stored_under_their_own_calls_and_failures_are_not() -> None:
    backend = MemoryBackend()
    calls = [
        _call({"city": "Oslo"}, Reply(response=OSLO)),
        _call({"city": "Rome"}, Reply(error="Invalid city")),
        _call({"city": "Paris"}, Reply(response="Rate limit exceeded for your plan")),
        _call({"x": 1}, Reply(response="ok"), function="nothing_for_nobody"),
    ]
    report = store_recorded(backend, calls, CATALOG)
    assert (report.calls, report.stored, report.failures, report.unknown_apis) == (4, 1, 2, 1)
    entry = backend.get(_key({"city": "Oslo"}))
    assert entry is not None and entry.source is Source.RECORDED
    assert entry.reply.response == OSLO and len(backend) == 1


def test_a_recorded_reply_replaces_a_made_up_one_but_not_a_recorded_one() -> None:
    backend = MemoryBackend()
    api = CATALOG.by_function(WEATHER)
    for city, source in (("Oslo", Source.SIMULATED), ("Rome", Source.IMPORTED)):
        arguments = normalize_arguments(api, {"city": city})
        backend.put(
            _key({"city": city}),
            CacheEntry(
                category=api.category_folder,
                tool=api.tool_key,
                api=api.api_key,
                arguments=arguments,
                reply=Reply(response="before"),
                source=source,
            ),
        )
    calls = [_call({"city": city}, Reply(response={"city": city})) for city in ("Oslo", "Rome")]
    report = store_recorded(backend, calls, CATALOG)
    assert (report.stored, report.kept) == (1, 1)
    assert backend.get(_key({"city": "Oslo"})).reply.response == {"city": "Oslo"}
    assert backend.get(_key({"city": "Rome"})).reply.response == "before"


async def test_an_identical_call_replays_it_and_another_call_adapts_it() -> None:
    backend = MemoryBackend()
    store_recorded(backend, [_call({"city": "Oslo"}, Reply(response=OSLO))], CATALOG)
    simulator = ExemplarSimulator(fallback=SchemaSimulator())
    service = ToolService(CATALOG, backend, simulator)
    api = CATALOG.by_function(WEATHER)

    same = await service.call(api, {"city": "Oslo"})
    other = await service.call(api, {"city": "Bergen"})

    assert (same.cached, same.source, same.reply.response) == (True, Source.RECORDED, OSLO)
    assert (other.cached, other.source) == (False, Source.ADAPTED)
    assert other.reply.response == {**OSLO, "city": "Bergen"}
    stored = backend.get(other.key)
    assert stored.simulator == "exemplar" and stored.examples == [_key({"city": "Oslo"})]


def test_the_command_imports_answer_files_and_reference_caches(tmp_path: Path) -> None:
    steps = [(WEATHER, {"city": "Oslo"}, OSLO)]
    answers = write_results(
        tmp_path / "method", "example", {"1": result_entry("q", "a", steps=steps)}
    )
    result = CliRunner().invoke(
        app, ["cache", "import", str(answers), "--tools", "example", "--home", str(tmp_path / "h")]
    )
    assert result.exit_code == 0, result.output
    assert "recorded 1 replies from 1 distinct tool calls in 1 answer files" in result.output
    result = CliRunner().invoke(app, ["cache", "stats", "--home", str(tmp_path / "h")])
    assert "recorded" in result.output and "1 entries in 1 APIs" in result.output

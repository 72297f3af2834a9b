"""The exemplar store: which stored replies are exemplars, and which come first."""

from __future__ import annotations

from typing import Any

from toolsim.cache.entry import CacheEntry, Reply, Source
from toolsim.cache.memory import MemoryBackend
from toolsim.catalog import Catalog
from toolsim.simulator.exemplars import ExemplarStore, bundled_exemplars, usable

API = ("Weather", "skycast_weather", "current_weather")


def _entry(arguments: dict[str, Any], response: Any, source: Source = Source.IMPORTED, error=""):
    return CacheEntry(
        category=API[0],
        tool=API[1],
        api=API[2],
        arguments=arguments,
        reply=Reply(error=error, response=response),
        source=source,
    )


def test_only_recorded_usable_answers_are_exemplars() -> None:
    assert usable(_entry({}, {"t": 1}))
    for source in (Source.REAL, Source.RECORDED):
        assert usable(_entry({}, {"t": 1}, source))
    assert not usable(_entry({}, {"t": 1}, Source.SIMULATED))
    assert not usable(_entry({}, {"t": 1}, Source.ADAPTED))  # errors would compound
    assert not usable(_entry({}, "", error="Invalid city"))
    assert not usable(_entry({}, "You are not subscribed to this API."))
    assert not usable(_entry({}, {}))


def test_a_new_recorded_source_is_an_exemplar_without_any_change_here() -> None:
    # Every Source value but the made-up ones counts as recorded.
    assert {s for s in Source if s.recorded} == set(Source) - {Source.SIMULATED, Source.ADAPTED}


def test_nearest_puts_the_same_shape_of_call_first_and_never_the_excluded_key() -> None:
    backend = MemoryBackend()
    backend.put("oslo", _entry({"city": "Oslo"}, {"city": "Oslo"}))
    backend.put("rome-units", _entry({"city": "Rome", "units": "metric"}, {"city": "Rome"}))
    backend.put("new-york", _entry({"city": "New York"}, {"city": "New York"}))
    backend.put("made-up", _entry({"city": "York"}, {"city": "York"}, Source.SIMULATED))
    store = ExemplarStore([backend])
    nearest = store.nearest(API, {"city": "York"}, limit=5)
    assert [key for key, _ in nearest] == ["new-york", "oslo", "rome-units"]
    excluded = store.nearest(API, {"city": "New York"}, exclude="new-york")
    assert "new-york" not in [key for key, _ in excluded]


def test_entries_stored_later_are_seen_after_the_refresh_interval() -> None:
    backend = MemoryBackend()
    store = ExemplarStore([backend], refresh_seconds=0.0)
    assert store.recorded(API) == []
    backend.put("oslo", _entry({"city": "Oslo"}, {"city": "Oslo"}))
    assert [key for key, _ in store.recorded(API)] == ["oslo"]
    frozen = ExemplarStore([backend], refresh_seconds=3600)
    frozen.recorded(API)
    backend.put("rome", _entry({"city": "Rome"}, {"city": "Rome"}))
    assert [key for key, _ in frozen.recorded(API)] == ["oslo"]


def test_the_example_suite_ships_exemplars_for_every_api() -> None:
    catalog = Catalog.from_paths(["example"])
    [backend] = bundled_exemplars(catalog)
    store = ExemplarStore([backend])
    for api in catalog:
        ref = (api.category_folder, api.tool_key, api.api_key)
        assert store.recorded(ref), api.function_name
    assert bundled_exemplars(Catalog()) == []

"""Explaining a replay miss: the closest recorded calls and what differs."""

from pathlib import Path
from typing import Any

import pytest

from toolsim.cache import CacheBackend
from toolsim.cache.disk import DiskBackend
from toolsim.cache.entry import CacheEntry, Reply, Source
from toolsim.cache.memory import MemoryBackend
from toolsim.cache.nearest import closest_recorded, differing_fields

API = ("Data", "party_planner", "search")
OTHER_API = ("Data", "party_planner", "book")


def record(backend: CacheBackend, n: int, arguments: dict[str, Any], api=API) -> None:
    entry = CacheEntry(
        category=api[0],
        tool=api[1],
        api=api[2],
        arguments=arguments,
        reply=Reply(response=f"reply {n}"),
        source=Source.SIMULATED,
    )
    backend.put(f"{n:064x}", entry)


@pytest.fixture(params=["memory", "disk"])
def backend(request: pytest.FixtureRequest, tmp_path: Path):
    opened = MemoryBackend() if request.param == "memory" else DiskBackend(tmp_path / "c")
    yield opened
    opened.close()


CALL = {"q": "birthday party", "page": 2}


def fill(backend: CacheBackend) -> None:
    # Recorded out of rank order so that ranking, not insertion, decides.
    record(backend, 1, {"q": "other", "page": 5, "lang": "en"})  # 3 fields differ
    record(backend, 2, {})  # 2 fields differ (both missing)
    record(backend, 3, {"q": "wedding", "page": 2})  # 1 field, far value
    record(backend, 4, {"q": "birthday party", "page": 1})  # 1 field, near value
    record(backend, 5, {"q": "birthday party", "page": 2}, api=OTHER_API)  # other API


def test_ranks_by_differing_fields_then_similarity(backend: CacheBackend) -> None:
    fill(backend)
    found = closest_recorded(backend, API, CALL, limit=10)
    assert found == [
        {"arguments": {"q": "birthday party", "page": 1}, "differs": ["page"]},
        {"arguments": {"q": "wedding", "page": 2}, "differs": ["q"]},
        {"arguments": {}, "differs": ["page", "q"]},
        {"arguments": {"q": "other", "page": 5, "lang": "en"}, "differs": ["lang", "page", "q"]},
    ]


def test_a_typo_ranks_above_a_different_value(backend: CacheBackend) -> None:
    record(backend, 1, {"q": "zzz", "page": 2})
    record(backend, 2, {"q": "birthday partyy", "page": 2})
    found = closest_recorded(backend, API, CALL)
    assert [f["arguments"]["q"] for f in found] == ["birthday partyy", "zzz"]
    assert all(f["differs"] == ["q"] for f in found)


def test_limit_is_respected(backend: CacheBackend) -> None:
    fill(backend)
    assert len(closest_recorded(backend, API, CALL)) == 3
    top = closest_recorded(backend, API, CALL, limit=2)
    assert [f["differs"] for f in top] == [["page"], ["q"]]
    assert len(closest_recorded(backend, API, CALL, limit=1)) == 1
    assert closest_recorded(backend, API, CALL, limit=0) == []


def test_empty_when_nothing_recorded(backend: CacheBackend) -> None:
    assert closest_recorded(backend, API, CALL) == []
    record(backend, 1, {"q": "x"}, api=OTHER_API)
    assert closest_recorded(backend, API, CALL) == []


def test_an_identical_recorded_call_differs_in_nothing(backend: CacheBackend) -> None:
    record(backend, 1, dict(CALL))
    assert closest_recorded(backend, API, CALL) == [{"arguments": CALL, "differs": []}]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ({}, {}, []),
        ({"a": 1}, {"a": 1}, []),
        ({"a": 1}, {"a": 2}, ["a"]),
        ({"a": 1}, {"b": 1}, ["a", "b"]),
        ({"b": None}, {}, ["b"]),
        ({"x": {"k": [1]}}, {"x": {"k": [1]}}, []),
        ({"z": 1, "a": 1}, {"z": 2, "a": 2}, ["a", "z"]),
    ],
)
def test_differing_fields(a: dict[str, Any], b: dict[str, Any], expected: list[str]) -> None:
    assert list(differing_fields(a, b)) == expected
    assert list(differing_fields(b, a)) == expected

"""One world for every server on one store: two servers on one Redis, and kill -9 mid-write.

Real processes (``toolsim serve``) and a real ``redis-server``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import Server, acknowledged_until_killed

from toolsim.cache import CacheBackend, open_backend
from toolsim.cache.disk import DiskBackend
from toolsim.world import World
from toolsim.world.probe import PAIRS, disagreements
from toolsim.world.store import TABLE, entity_record, facts_of

SEARCH = "search_hotels_for_tripnest_hotels"
DATES = {"check_in": "2025-06-01", "check_out": "2025-06-03"}
SCOPE = ("Travel", "tripnest_hotels")


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("TOOLSIM_")}
    return env | {"TOOLSIM_HOME": str(home), "TOOLSIM_SIMULATOR__BACKEND": "schema", **extra}


def _call(base: str, function: str, arguments: dict[str, Any]) -> Any:
    reply = httpx.post(f"{base}/v1/tools/{function}", json=arguments, timeout=30)
    assert reply.status_code == 200 and reply.json()["error"] == "", reply.text
    return reply.json()["response"]


@pytest.mark.slow
def test_two_servers_on_one_redis_see_the_same_world(redis_url: str, tmp_path: Path) -> None:
    """The search goes to one server, the details to the other: they agree."""
    first = Server(_env(tmp_path / "a", TOOLSIM_CACHE__URL=redis_url), workers=1)
    second = Server(_env(tmp_path / "b", TOOLSIM_CACHE__URL=redis_url), workers=1)
    try:
        first.start()
        second.start()
        for pair in PAIRS:
            found = _call(first.base, pair.search, pair.search_args)
            item = found[pair.items][0] if pair.items else found
            details = _call(second.base, pair.details, {pair.parameter: item[pair.item_id]})
            shared = [
                (field, value, details[field])
                for field, value in item.items()
                if field in details and isinstance(value, str | int | float)
            ]
            assert shared and disagreements(shared) == [], pair.label
    finally:
        first.stop()
        second.stop()
    backend = open_backend(redis_url, tmp_path)
    try:
        records = dict(backend.records_items(TABLE))  # type: ignore[attr-defined]
    finally:
        backend.close()
    hotels = [r for name, r in records.items() if name.startswith("e\x1fTravel\x1f")]
    sources = {value["api"] for r in hotels for f, value in r.items() if f.startswith("s:")}
    assert {"search_hotels", "hotel_details"} <= sources  # both servers wrote to one world


@pytest.fixture(params=["disk", "redis"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[dict[str, str], Callable[[], CacheBackend]]]:
    """A server environment on diskcache or Redis, and a way to open that store directly."""
    if request.param == "disk":
        yield _env(tmp_path), lambda: DiskBackend(tmp_path / "cache")
    else:
        url = request.getfixturevalue("redis_url")
        yield _env(tmp_path, TOOLSIM_CACHE__URL=url), lambda: open_backend(url, tmp_path)


CALLS = 400
KILL_AFTER = CALLS // 2


@pytest.mark.slow
def test_kill_9_during_writes_loses_no_acknowledged_entity(store, tmp_path: Path) -> None:
    """Every hotel of every acknowledged search is in the world, with the facts it showed."""
    env, open_store = store
    server = Server(env, workers=2)
    cities = [f"Crash City {n}" for n in range(CALLS)]
    try:
        server.start()
        acknowledged = acknowledged_until_killed(
            server,
            cities,
            lambda http, city: http.post(
                f"{server.base}/v1/tools/{SEARCH}", json={"city": city, **DATES}
            ),
            KILL_AFTER,
        )
    finally:
        server.stop()
    backend = open_store()
    try:
        world = World(backend)  # type: ignore[arg-type]
        shown = [hotel for body in acknowledged.values() for hotel in body["response"]["hotels"]]
        assert len(shown) >= len(acknowledged)
        records = world.lookup({entity_record(SCOPE, hotel["id"]) for hotel in shown})
        for hotel in shown:
            record = records.get(entity_record(SCOPE, hotel["id"]))
            assert record is not None, f"acknowledged hotel {hotel['id']} lost"
            facts = facts_of(record)
            assert {k: hotel[k] for k in ("name", "stars", "price")} == {
                k: facts[k] for k in ("name", "stars", "price")
            }
    finally:
        backend.close()

"""kill -9 a `toolsim serve --workers 2` while it stores 1,000 distinct calls; no acked loss.

From the test, 16 threads send 1,000 distinct misses to ``POST /virtual``; once
half are acknowledged (200, empty ``error``), the whole server process group gets
SIGKILL mid-write. Then the cache, opened directly, must hold every acknowledged
reply unchanged, every stored entry must parse, and the count and API index must
agree with the entries; a restarted server serves acknowledged calls as hits.
For diskcache (the interesting case: SQLite transactions cut by the kill) and
for Redis (only toolsim is killed, not Redis).
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
from toolsim.cache.entry import Reply
from toolsim.cache.keys import cache_key, normalize_arguments
from toolsim.catalog import Catalog

pytestmark = pytest.mark.slow

FUNCTION = "current_weather_for_skycast_weather"
CALLS = 1_000
KILL_AFTER = CALLS // 2
CONCURRENCY = 16


@pytest.fixture(params=["disk", "redis"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[dict[str, str], Callable[[], CacheBackend]]]:
    """The server's environment and a way to open its cache directly."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("TOOLSIM_")}
    env |= {"TOOLSIM_HOME": str(tmp_path), "TOOLSIM_SIMULATOR__BACKEND": "schema"}
    if request.param == "disk":
        yield env, lambda: DiskBackend(tmp_path / "cache")
    else:
        url = request.getfixturevalue("redis_url")
        env["TOOLSIM_CACHE__URL"] = url
        yield env, lambda: open_backend(url, tmp_path)


def _body(city: str) -> dict[str, Any]:
    return {
        "category": "Weather",
        "tool_name": "SkyCast Weather",
        "api_name": "Current Weather",
        "tool_input": {"city": city},
    }


def test_acknowledged_entries_survive_kill_9(store, tmp_path: Path) -> None:
    env, open_store = store
    server = Server(env)
    cities = [f"Crash City {n}" for n in range(CALLS)]
    try:
        server.start()
        acknowledged = acknowledged_until_killed(
            server,
            cities,
            lambda http, city: http.post(f"{server.base}/virtual", json=_body(city)),
            KILL_AFTER,
            CONCURRENCY,
        )
        api = Catalog.from_paths(["example"]).by_function(FUNCTION)
        keys = {city: cache_key(api, normalize_arguments(api, {"city": city})) for city in cities}
        backend = open_store()
        try:
            # Every acknowledged reply is stored, unchanged.
            for city, reply in acknowledged.items():
                entry = backend.get(keys[city])
                assert entry is not None, f"acknowledged call for {city!r} lost"
                assert entry.reply == Reply.model_validate(reply)
                assert entry.arguments == {"city": city}
            # Every stored entry parses, is one of ours, and the bookkeeping agrees.
            stored = dict(backend.items())
            assert set(stored) <= set(keys.values())
            assert {keys[city] for city in acknowledged} <= set(stored)
            assert len(backend) == len(stored)
            ref = (api.category_folder, api.tool_key, api.api_key)
            listed = backend.keys_for(ref)
            assert sorted(listed) == sorted(stored)
        finally:
            backend.close()

        # A restarted server answers acknowledged calls from the cache.
        server.start()
        sample = list(acknowledged)[:: max(1, len(acknowledged) // 20)]
        with httpx.Client(timeout=30) as again:
            for city in sample:
                reply = again.post(f"{server.base}/v1/tools/{FUNCTION}", json={"city": city})
                assert reply.status_code == 200
                assert reply.headers["x-toolsim-cached"] == "true"
                assert reply.json() == acknowledged[city]
    finally:
        server.stop()

"""RedisBackend beyond the shared contract: sharing, concurrent writers, URLs, failures.

Runs against a real ``redis-server`` (the ``redis_url`` fixture), never a mock.
"""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from toolsim.cache import open_backend
from toolsim.cache.entry import CacheEntry, Reply, Source
from toolsim.cache.redis import BATCH, RedisBackend
from toolsim.errors import UpstreamError, UserError

WEATHER = ("Weather", "sky_cast", "current_weather")


def entry(n: int, api: tuple[str, str, str] = WEATHER) -> CacheEntry:
    category, tool, name = api
    return CacheEntry(
        category=category,
        tool=tool,
        api=name,
        arguments={"n": n},
        reply=Reply(response={"n": n}),
        source=Source.SIMULATED,
    )


def key(n: int) -> str:
    return f"{n:064x}"


@pytest.fixture
def pair(redis_url: str, tmp_path: Path) -> Iterator[tuple[RedisBackend, RedisBackend]]:
    """Two backends on one server and prefix: two workers, or two machines."""
    a, b = open_backend(redis_url, tmp_path), open_backend(redis_url, tmp_path)
    assert isinstance(a, RedisBackend) and isinstance(b, RedisBackend)
    yield a, b
    a.close()
    b.close()


def test_two_backends_share_entries_listings_and_counters(pair) -> None:
    a, b = pair
    a.put(key(1), entry(1))
    b.put(key(2), entry(2))
    b.put(key(1), entry(1).model_copy(update={"source": Source.REAL}))
    a.add_counters({"hits": 1, "misses": 2})
    b.add_counters({"hits": 2})
    for view in (a, b):
        assert view.keys_for(WEATHER) == [key(1), key(2)]
        assert len(view) == 2
        stored = view.get(key(1))
        assert stored is not None and stored.source is Source.REAL
        assert view.counters() == {"hits": 3, "misses": 2}


def test_concurrent_writers_of_one_key_list_it_once(pair) -> None:
    a, b = pair
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def write(n: int) -> None:
        try:
            start.wait(timeout=10)
            (a if n % 2 else b).put(key(7), entry(n))
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    assert a.keys_for(WEATHER) == [key(7)]
    assert len(a) == 1
    stored = a.get(key(7))
    assert stored is not None and stored.arguments["n"] in range(8)


def test_put_many_spans_batches_and_keys_for_reads_the_tail(pair) -> None:
    a, _ = pair
    count = BATCH * 2 + 7
    assert a.put_many((key(n), entry(n)) for n in range(count)) == count
    assert len(a) == count
    assert a.keys_for(WEATHER, limit=3) == [key(n) for n in range(count - 3, count)]
    assert a.keys_for(WEATHER, limit=0) == []
    assert len(a.keys_for(WEATHER)) == count
    assert sum(1 for _ in a.items()) == count


def test_prefixes_isolate_caches_on_one_server(redis_server: str, tmp_path: Path) -> None:
    first = open_backend(f"{redis_server}?prefix=first-{tmp_path.name}", tmp_path)
    second = open_backend(f"{redis_server}?prefix=second-{tmp_path.name}", tmp_path)
    try:
        first.put(key(1), entry(1))
        first.add_counters({"hits": 1})
        assert second.get(key(1)) is None
        assert len(second) == 0 and list(second.items()) == [] and second.counters() == {}
        assert first.try_lock(key(1), "first", 30)
        assert second.try_lock(key(1), "second", 30)
    finally:
        first.close()
        second.close()


def test_default_prefix_and_stored_layout(redis_server: str, tmp_path: Path) -> None:
    raw = redis.Redis.from_url(redis_server, decode_responses=True)
    backend = open_backend(redis_server, tmp_path)
    try:
        assert isinstance(backend, RedisBackend) and backend.prefix == "toolsim"
        backend.put(key(1), entry(1))
        assert CacheEntry.model_validate_json(raw.get(f"toolsim:e:{key(1)}")) == backend.get(key(1))
        assert raw.lrange("toolsim:i:Weather\x1fsky_cast\x1fcurrent_weather", 0, -1) == [key(1)]
    finally:
        backend.close()
        raw.delete(*raw.keys("toolsim:*"))
        raw.close()


def test_valkey_scheme_is_the_same_protocol(redis_server: str, tmp_path: Path) -> None:
    backend = open_backend(redis_server.replace("redis://", "valkey://") + "?prefix=vk", tmp_path)
    try:
        assert isinstance(backend, RedisBackend)
        assert backend.get(key(1)) is None
    finally:
        backend.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_redis_is_a_clear_error_at_open(tmp_path: Path) -> None:
    url = f"redis://:secret@127.0.0.1:{_closed_port()}/0"
    with pytest.raises(UserError) as info:
        open_backend(url, tmp_path)
    assert info.value.message.startswith("cannot reach Redis at redis://***@127.0.0.1:")
    assert "secret" not in info.value.message


def test_redis_failing_later_is_an_upstream_error() -> None:
    # No retries: the client's default backoff would only make the test slow.
    client = redis.Redis(port=_closed_port(), retry=Retry(NoBackoff(), 0), decode_responses=True)
    backend = RedisBackend(client, address="redis://127.0.0.1:1/0")
    try:
        with pytest.raises(UpstreamError, match="Redis at redis://127.0.0.1:1/0 failed"):
            backend.get(key(1))
        with pytest.raises(UpstreamError):
            list(backend.items())
        with pytest.raises(UpstreamError):
            backend.try_lock(key(1), "holder", 1)
    finally:
        backend.close()


def test_empty_prefix_and_missing_client_are_user_errors(
    redis_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(UserError, match="prefix must not be empty"):
        open_backend(f"{redis_server}?prefix=", tmp_path)
    monkeypatch.setitem(sys.modules, "redis", None)  # as if the extra were not installed
    with pytest.raises(UserError, match=r"pip install 'toolsim\[redis\]'"):
        open_backend(redis_server, tmp_path)

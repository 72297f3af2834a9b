"""The CacheBackend contract, run against every built-in backend."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from toolsim.cache import CacheBackend, open_backend
from toolsim.cache.backend import SupportsLock
from toolsim.cache.disk import DiskBackend
from toolsim.cache.entry import FORMAT_VERSION, CacheEntry, Reply, Source
from toolsim.cache.memory import MemoryBackend
from toolsim.errors import UserError

WEATHER = ("Weather", "sky_cast", "current_weather")
FORECAST = ("Weather", "sky_cast", "forecast")


def make_entry(
    api: tuple[str, str, str] = WEATHER, response: Any = "sunny", **fields: Any
) -> CacheEntry:
    category, tool, name = api
    return CacheEntry(
        category=category,
        tool=tool,
        api=name,
        arguments=fields.pop("arguments", {"city": "Lisbon"}),
        reply=Reply(error="", response=response),
        source=fields.pop("source", Source.SIMULATED),
        **fields,
    )


def hex_key(n: int) -> str:
    return f"{n:064x}"


@pytest.fixture(params=["memory", "disk", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CacheBackend]:
    opened: CacheBackend
    if request.param == "memory":
        opened = MemoryBackend()
    elif request.param == "disk":
        opened = DiskBackend(tmp_path / "cache")
    else:  # a real redis-server (skips without one), under a prefix of this test's own
        opened = open_backend(request.getfixturevalue("redis_url"), tmp_path)
    yield opened
    opened.close()


def test_backends_implement_the_protocol(backend: CacheBackend) -> None:
    assert isinstance(backend, CacheBackend)


def test_get_missing_is_none(backend: CacheBackend) -> None:
    assert backend.get(hex_key(1)) is None
    assert len(backend) == 0
    assert backend.keys_for(WEATHER) == []
    assert list(backend.items()) == []


def test_roundtrip_preserves_every_field(backend: CacheBackend) -> None:
    entry = make_entry(
        arguments={"city": "Lisbon", "days": 3, "nested": {"b": [1, 2.5, None], "a": True}},
        response={"temp": 21.5, "tags": ["warm", "dry"], "note": "élan ☀"},
        source=Source.IMPORTED,
        simulator="schema",
        model="qwen-test",
        prompt_hash="ab" * 32,
        examples=[hex_key(7), hex_key(8)],
        origin_key="{'city': 'Lisbon'}",
        created_at=1_700_000_000.123456,
    )
    backend.put(hex_key(1), entry)
    got = backend.get(hex_key(1))
    assert got == entry
    assert got is not None
    assert got.source is Source.IMPORTED
    assert got.format_version == FORMAT_VERSION
    assert got.created_at == 1_700_000_000.123456
    assert got.examples == [hex_key(7), hex_key(8)]


def test_error_reply_roundtrip(backend: CacheBackend) -> None:
    entry = make_entry(response="")
    entry = entry.model_copy(update={"reply": Reply(error="Rate limit", response="")})
    backend.put(hex_key(1), entry)
    assert backend.get(hex_key(1)) == entry


def test_overwrite_keeps_one_listing(backend: CacheBackend) -> None:
    backend.put(hex_key(1), make_entry(response="first"))
    backend.put(hex_key(1), make_entry(response="second", source=Source.REAL))
    got = backend.get(hex_key(1))
    assert got is not None
    assert (got.reply.response, got.source) == ("second", Source.REAL)
    assert backend.keys_for(WEATHER) == [hex_key(1)]
    assert len(backend) == 1


def test_keys_for_lists_each_api_in_insertion_order(backend: CacheBackend) -> None:
    order = [5, 2, 9, 1]
    for n in order:
        backend.put(hex_key(n), make_entry(arguments={"n": n}))
    backend.put(hex_key(3), make_entry(FORECAST))
    backend.put(hex_key(2), make_entry(response="again", arguments={"n": 2}))
    assert backend.keys_for(WEATHER) == [hex_key(n) for n in order]
    assert backend.keys_for(FORECAST) == [hex_key(3)]
    assert backend.keys_for(("Weather", "sky_cast", "nothing")) == []


def test_put_many(backend: CacheBackend) -> None:
    items = [(hex_key(n), make_entry(arguments={"n": n})) for n in range(5)]
    items.append((hex_key(10), make_entry(FORECAST)))
    assert backend.put_many(items) == 6
    assert len(backend) == 6
    assert backend.keys_for(WEATHER) == [hex_key(n) for n in range(5)]
    for key, entry in items:
        assert backend.get(key) == entry
    # A batch may repeat keys and overwrite stored ones.
    again = [(hex_key(0), make_entry(response="new")), (hex_key(0), make_entry(response="newer"))]
    assert backend.put_many(again) == 2
    assert len(backend) == 6
    assert backend.keys_for(WEATHER)[0] == hex_key(0)
    assert backend.keys_for(WEATHER).count(hex_key(0)) == 1
    stored = backend.get(hex_key(0))
    assert stored is not None and stored.reply.response == "newer"
    assert backend.put_many([]) == 0


def test_len_and_items(backend: CacheBackend) -> None:
    entries = {hex_key(n): make_entry(arguments={"n": n}) for n in range(3)}
    entries[hex_key(9)] = make_entry(FORECAST, source=Source.RECORDED)
    for key, entry in entries.items():
        backend.put(key, entry)
    assert len(backend) == 4
    assert dict(backend.items()) == entries


def test_counters_add_up(backend: CacheBackend) -> None:
    assert backend.counters() == {}
    backend.add_counters({"hits": 2, "misses": 1})
    backend.add_counters({"hits": 3})
    backend.add_counters({"misses": 4, "errors": 1})
    counters = backend.counters()
    assert counters == {"hits": 5, "misses": 5, "errors": 1}
    # Counters are separate from entries.
    assert len(backend) == 0


def test_counters_and_entries_do_not_mix(backend: CacheBackend) -> None:
    backend.put(hex_key(1), make_entry())
    backend.add_counters({"hits": 1})
    assert [key for key, _ in backend.items()] == [hex_key(1)]
    assert backend.counters() == {"hits": 1}


def test_lock_excludes_a_second_holder_until_released(backend: CacheBackend) -> None:
    assert isinstance(backend, SupportsLock)
    assert backend.try_lock(hex_key(1), "first", 30) is True
    assert backend.try_lock(hex_key(1), "second", 30) is False
    assert backend.try_lock(hex_key(2), "second", 30) is True  # another key
    backend.unlock(hex_key(1), "second")  # not the holder: nothing happens
    assert backend.try_lock(hex_key(1), "second", 30) is False
    backend.unlock(hex_key(1), "first")
    assert backend.try_lock(hex_key(1), "second", 30) is True


def test_lock_expires_when_its_holder_stops_renewing(backend: CacheBackend) -> None:
    assert isinstance(backend, SupportsLock)
    assert backend.try_lock(hex_key(1), "crashed", 0.3)  # a holder that dies
    assert backend.try_lock(hex_key(1), "waiter", 30) is False
    # Free once the dead holder's lease runs out (well within 5 s).
    deadline = time.monotonic() + 5
    while not backend.try_lock(hex_key(1), "waiter", 30):
        assert time.monotonic() < deadline, "the lease never ran out"
        time.sleep(0.02)  # polling a lease's expiry, not a sync
    # The expired holder can neither renew nor release its successor's lock.
    assert backend.renew_lock(hex_key(1), "crashed", 30) is False
    backend.unlock(hex_key(1), "crashed")
    assert backend.try_lock(hex_key(1), "intruder", 30) is False


def test_renewing_keeps_the_lock_past_its_first_lease(backend: CacheBackend) -> None:
    assert isinstance(backend, SupportsLock)
    assert backend.try_lock(hex_key(1), "holder", 0.2)
    assert backend.renew_lock(hex_key(1), "holder", 60) is True
    started = time.monotonic()
    while time.monotonic() - started < 0.4:  # twice the first lease
        assert backend.try_lock(hex_key(1), "waiter", 30) is False
        time.sleep(0.02)  # watching the lock outlive its first lease
    assert backend.renew_lock(hex_key(2), "holder", 60) is False  # never held


def test_locks_are_not_entries(backend: CacheBackend) -> None:
    assert isinstance(backend, SupportsLock)
    assert backend.try_lock(hex_key(1), "holder", 30)
    assert len(backend) == 0
    assert list(backend.items()) == []
    assert backend.counters() == {}


# DiskBackend only.


def test_disk_backend_persists_across_reopen(tmp_path: Path) -> None:
    first = DiskBackend(tmp_path / "c")
    entry = make_entry(model="m")
    first.put(hex_key(1), entry)
    first.add_counters({"hits": 3})
    first.close()
    second = DiskBackend(tmp_path / "c")
    try:
        assert second.get(hex_key(1)) == entry
        assert second.keys_for(WEATHER) == [hex_key(1)]
        assert len(second) == 1
        assert second.counters() == {"hits": 3}
    finally:
        second.close()


def test_two_disk_backends_on_one_folder_share_writes(tmp_path: Path) -> None:
    a = DiskBackend(tmp_path / "c")
    b = DiskBackend(tmp_path / "c")
    try:
        a.put(hex_key(1), make_entry(arguments={"n": 1}))
        b.put(hex_key(2), make_entry(arguments={"n": 2}))
        a.add_counters({"hits": 1})
        b.add_counters({"hits": 2})
        for view in (a, b):
            assert view.get(hex_key(1)) is not None
            assert view.get(hex_key(2)) is not None
            assert view.keys_for(WEATHER) == [hex_key(1), hex_key(2)]
            assert len(view) == 2
            assert view.counters() == {"hits": 3}
    finally:
        a.close()
        b.close()


# open_backend.


def test_open_backend_defaults_to_disk_under_home(tmp_path: Path) -> None:
    opened = open_backend(None, tmp_path)
    try:
        assert isinstance(opened, DiskBackend)
        assert opened.directory == tmp_path / "cache"
        opened.put(hex_key(1), make_entry())
    finally:
        opened.close()
    assert (tmp_path / "cache").is_dir()
    reopened = DiskBackend(tmp_path / "cache")
    try:
        assert reopened.get(hex_key(1)) is not None
    finally:
        reopened.close()


def test_open_backend_disk_url_with_path(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    opened = open_backend(f"disk://{target}", tmp_path / "home")
    try:
        assert isinstance(opened, DiskBackend)
        assert opened.directory == target
    finally:
        opened.close()
    assert not (tmp_path / "home" / "cache").exists()


def test_open_backend_memory(tmp_path: Path) -> None:
    opened = open_backend("memory://", tmp_path)
    assert isinstance(opened, MemoryBackend)
    assert list(tmp_path.iterdir()) == []
    # Each opening is a fresh store.
    opened.put(hex_key(1), make_entry())
    assert open_backend("memory://", tmp_path).get(hex_key(1)) is None


@pytest.mark.parametrize("url", ["mongodb://localhost:27017", "s3://bucket", "/just/a/path"])
def test_open_backend_unknown_scheme_lists_known_ones(tmp_path: Path, url: str) -> None:
    with pytest.raises(UserError) as info:
        open_backend(url, tmp_path)
    message = info.value.message
    assert url in message
    assert "disk://" in message
    assert "memory://" in message
    assert "redis://" in message


def test_records_first_writer_wins_per_field(backend: CacheBackend) -> None:
    from toolsim.cache.backend import SupportsRecords

    assert isinstance(backend, SupportsRecords)
    backend.records_merge("t", {"a": {"x": 1, "y": [1, "two"]}, "b": {"x": "b"}})
    backend.records_merge("t", {"a": {"x": 99, "z": {"deep": True}}, "c": {}})
    assert backend.records_get("t", ["a", "b", "missing"]) == {
        "a": {"x": 1, "y": [1, "two"], "z": {"deep": True}},
        "b": {"x": "b"},
    }
    assert [name for name, _ in backend.records_items("t")] == ["a", "b"]
    assert backend.records_get("other", ["a"]) == {}
    assert backend.records_clear("t") == 2
    assert backend.records_get("t", ["a"]) == {} and list(backend.records_items("t")) == []
    assert len(backend) == 0  # records are not cache entries


def test_records_merge_is_atomic_per_field_across_threads(backend: CacheBackend) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def write(n: int) -> None:
        backend.records_merge("t", {"shared": {"winner": n, f"own{n}": n}})  # type: ignore[attr-defined]

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(40)))
    record = backend.records_get("t", ["shared"])["shared"]  # type: ignore[attr-defined]
    assert record["winner"] in range(40)
    assert all(record[f"own{n}"] == n for n in range(40))
    assert [name for name, _ in backend.records_items("t")] == ["shared"]  # type: ignore[attr-defined]


# Lone surrogates ("\ud800"): JSON text may escape them, UTF-8 cannot carry them, and
# imported reference replies (read by the stdlib json) may hold them.
LONE = "x\ud800y\udfff"


def test_records_with_lone_surrogates_round_trip(backend: CacheBackend) -> None:
    from toolsim.cache.backend import SupportsRecords

    assert isinstance(backend, SupportsRecords)
    record = {"title": LONE, f"f:{LONE}": [LONE, {LONE: 1}], "plain": "élan"}
    backend.records_merge("t", {"plain": {"a": 1}, LONE: record})
    backend.records_merge("t", {LONE: {"title": "later", "more": LONE}, "plain": {"b": LONE}})
    expected = {LONE: {**record, "more": LONE}, "plain": {"a": 1, "b": LONE}}
    assert backend.records_get("t", [LONE, "plain"]) == expected
    assert list(backend.records_items("t")) == [
        ("plain", expected["plain"]),
        (LONE, expected[LONE]),
    ]
    assert backend.records_clear("t") == 2
    assert backend.records_get("t", [LONE]) == {} and list(backend.records_items("t")) == []


def test_entries_with_lone_surrogates_round_trip(backend: CacheBackend) -> None:
    entry = make_entry(
        arguments={"q": LONE}, response={LONE: [LONE, "élan"]}, origin_key=f"{{'q': {LONE!r}}}"
    )
    plain = make_entry()
    backend.put_many([(hex_key(1), entry), (hex_key(2), plain)])
    assert backend.get(hex_key(1)) == entry
    assert dict(backend.items()) == {hex_key(1): entry, hex_key(2): plain}
    assert backend.keys_for(WEATHER) == [hex_key(1), hex_key(2)]


def test_a_reference_reply_with_a_lone_surrogate_imports_into_cache_and_world(
    backend: CacheBackend, tmp_path: Path
) -> None:
    import json

    from toolsim.cache.reference_format import import_reference
    from toolsim.world import World

    folder = tmp_path / "ref" / "Media" / "reelradar_for_Media"
    folder.mkdir(parents=True)
    reply = {"error": "", "response": {"id": f"m{LONE}", "title": LONE, f"k{LONE}": LONE}}
    # The key is the repr of the arguments; json.dumps escapes the reply's surrogates.
    (folder / "movie_details.json").write_text(json.dumps({str({"movie_id": f"m{LONE}"}): reply}))
    world = World(backend)  # type: ignore[arg-type]
    report = import_reference(backend, tmp_path / "ref", observe=world.observe_many)
    assert (report.entries, report.skipped) == (1, 0)
    [(_key, entry)] = list(backend.items())
    assert entry.reply.response == reply["response"]
    assert entry.arguments == {"movie_id": f"m{LONE}"}
    records = dict(backend.records_items("world"))  # type: ignore[attr-defined]
    movie = f"e\x1fMedia\x1freelradar\x1fm{LONE}"
    assert records[f"n\x1fMedia\x1freelradar\x1f{LONE}"] == {"entity": movie}
    assert records[movie]["id"] == f"m{LONE}"
    assert (records[movie]["f:title"], records[movie][f"f:k{LONE}"]) == (LONE, LONE)


def test_tallies_number_occurrences_across_handles_and_expire(
    backend: CacheBackend, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    from toolsim.cache.backend import SupportsTally

    assert isinstance(backend, SupportsTally)
    assert [backend.tally("call a", ttl=60) for _ in range(3)] == [0, 1, 2]
    assert backend.tally("call b", ttl=60) == 0
    if not isinstance(backend, MemoryBackend):  # another process's handle on the same store
        other = (
            DiskBackend(tmp_path / "cache")
            if isinstance(backend, DiskBackend)
            else open_backend(request.getfixturevalue("redis_url"), tmp_path)
        )
        assert isinstance(other, SupportsTally)
        assert other.tally("call a", ttl=60) == 3
        other.close()
    backend.tally("brief", ttl=0.05)
    deadline = time.monotonic() + 5
    while backend.tally("brief", ttl=0.05) != 0:  # forgotten once its ttl has passed
        assert time.monotonic() < deadline, "the tally did not expire"
        time.sleep(0.06)  # waiting out a real expiry, not a sync
    assert len(backend) == 0 and backend.counters() == {}  # tallies are neither

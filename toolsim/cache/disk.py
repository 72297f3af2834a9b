"""The embedded default backend: diskcache (SQLite + files) under ``TOOLSIM_HOME``.

diskcache is safe to share between processes on one machine, so several server
workers can use one folder.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import diskcache

from toolsim.cache.backend import (
    EXISTS,
    FULL,
    OPENED,
    Session,
    SessionChange,
    change_session,
    entry_json,
    entry_of,
    poll_until,
    record_json,
    record_value,
)
from toolsim.cache.entry import CacheEntry
from toolsim.catalog.models import ApiId

_ENTRY = "e:"
_INDEX = "i:"
_INDEX_SIZE = "m:"
_COUNTERS = "c:counters"
_LOCK = "l:"
_SIZE = "n:entries"
# Records (SupportsRecords): r:<table>\x1f<name> -> JSON object; each table's names are
# listed like an API's keys, as a numbered run (R:<table>\x1f<n>) with a counter (N:<table>).
_RECORD = "r:"
_RECORD_INDEX = "R:"
_RECORD_COUNT = "N:"
# Sessions (SupportsSessions): s:<space>\x1f<name> -> {"fields", "log", "expires"} as JSON, and
# S:<space> -> {name: expires}, the space's live sessions (pruned as they are counted).
_SESSION = "s:"
_SESSIONS = "S:"


def _api_prefix(api: ApiId) -> str:
    # \x1f cannot appear in standardized names, so the key is unambiguous.
    return "\x1f".join(api)


def _api_of(entry: CacheEntry) -> ApiId:
    return (entry.category, entry.tool, entry.api)


def _storable(text: str) -> str | bytes:
    """``text`` as SQLite can hold it: unchanged, or as bytes when it has a lone surrogate.

    Record names come from replies, and imported ones may carry a lone surrogate
    (``"\\ud800"``), which UTF-8 cannot; as bytes (``surrogatepass``) it round-trips.
    """
    try:
        text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")
    return text


def _record_key(table: str, name: str) -> str | bytes:
    return _storable(f"{_RECORD}{table}\x1f{name}")


def _listed_name(stored: str | bytes) -> str:
    return stored if isinstance(stored, str) else stored.decode("utf-8", "surrogatepass")


class DiskBackend:
    """A :class:`~toolsim.cache.backend.CacheBackend` on a diskcache folder.

    Each API's listing is a numbered run of small keys (``i:<api>\x1f<n>``)
    with a counter, so storing an entry costs the same however many the API
    already has.
    """

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        # Entries are small; keep them inside SQLite rather than one file each.
        self._cache = diskcache.Cache(
            str(directory), size_limit=2**42, eviction_policy="none", disk_min_file_size=2**20
        )

    def get(self, key: str) -> CacheEntry | None:
        """Return the entry stored under ``key``, or None."""
        raw = self._cache.get(_ENTRY + key)
        return None if raw is None else entry_of(raw)

    def put(self, key: str, entry: CacheEntry) -> None:
        """Store one entry and list it under its API, in one transaction."""
        self.put_many([(key, entry)])

    def put_many(self, items: Iterable[tuple[str, CacheEntry]]) -> int:
        """Store many entries in one transaction."""
        count = 0
        with self._cache.transact():
            for key, entry in items:
                fresh = _ENTRY + key not in self._cache
                self._cache.set(_ENTRY + key, entry_json(entry))
                if fresh:
                    prefix = _api_prefix(_api_of(entry))
                    position = self._cache.incr(_INDEX_SIZE + prefix) - 1
                    self._cache.set(f"{_INDEX}{prefix}\x1f{position}", key)
                    self._cache.incr(_SIZE)
                count += 1
        return count

    def keys_for(self, api: ApiId, limit: int | None = None) -> list[str]:
        """Keys of the entries stored for one API, oldest first; the newest ``limit`` if given."""
        prefix = _api_prefix(api)
        size = int(self._cache.get(_INDEX_SIZE + prefix, 0))
        first = 0 if limit is None else max(0, size - limit)
        keys = (self._cache.get(f"{_INDEX}{prefix}\x1f{n}") for n in range(first, size))
        return [key for key in keys if key is not None]

    def items(self) -> Iterator[tuple[str, CacheEntry]]:
        """Every stored (key, entry)."""
        for raw_key in self._cache.iterkeys():
            if isinstance(raw_key, str) and raw_key.startswith(_ENTRY):
                raw = self._cache.get(raw_key)
                if raw is not None:
                    yield raw_key[len(_ENTRY) :], entry_of(raw)

    def __len__(self) -> int:
        return int(self._cache.get(_SIZE, 0))

    def add_counters(self, deltas: dict[str, int]) -> None:
        """Add to shared counters atomically (one value, updated in a SQLite transaction).

        Counters live in a single dict so reading them is one lookup, however
        many entries the cache holds.
        """
        with self._cache.transact():
            counts = dict(self._cache.get(_COUNTERS, {}))
            for name, delta in deltas.items():
                if delta:
                    counts[name] = counts.get(name, 0) + delta
            self._cache.set(_COUNTERS, counts)

    def counters(self) -> dict[str, int]:
        """Current values of all counters."""
        return dict(self._cache.get(_COUNTERS, {}))

    def records_merge(self, table: str, records: dict[str, dict[str, Any]]) -> None:
        """Add the fields each record lacks, all in one SQLite transaction (first writer wins)."""
        with self._cache.transact():
            for name, fields in records.items():
                stored_key = _record_key(table, name)
                raw = self._cache.get(stored_key)
                current = {} if raw is None else record_value(raw)
                missing = {field: value for field, value in fields.items() if field not in current}
                if not missing:
                    continue
                self._cache.set(stored_key, record_json({**current, **missing}))
                if raw is None:
                    position = self._cache.incr(_RECORD_COUNT + table) - 1
                    self._cache.set(f"{_RECORD_INDEX}{table}\x1f{position}", _storable(name))

    def records_get(self, table: str, names: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored records among ``names``."""
        found = {}
        for name in names:
            raw = self._cache.get(_record_key(table, name))
            if raw is not None:
                found[name] = record_value(raw)
        return found

    def records_items(self, table: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every (name, record) of a table, oldest first."""
        size = int(self._cache.get(_RECORD_COUNT + table, 0))
        for position in range(size):
            stored = self._cache.get(f"{_RECORD_INDEX}{table}\x1f{position}")
            if stored is None:
                continue
            name = _listed_name(stored)
            raw = self._cache.get(_record_key(table, name))
            if raw is not None:
                yield name, record_value(raw)

    def records_clear(self, table: str) -> int:
        """Delete a table's records and listing."""
        with self._cache.transact():
            size = int(self._cache.get(_RECORD_COUNT + table, 0))
            for position in range(size):
                index_key = f"{_RECORD_INDEX}{table}\x1f{position}"
                name = self._cache.get(index_key)
                if name is not None:
                    self._cache.delete(_record_key(table, _listed_name(name)))
                self._cache.delete(index_key)
            self._cache.delete(_RECORD_COUNT + table)
        return size

    def _live_sessions(self, space: str) -> dict[str, float]:
        """The space's live sessions (name -> expiry), expired ones deleted; in a transaction.

        The listing keeps each session's expiry as of its opening or a previous
        count, so a change need not rewrite it: a listed time that has passed is
        checked against the session itself.
        """
        now = time.time()
        listed: dict[str, float] = dict(self._cache.get(_SESSIONS + space, {}))
        stale = [name for name, expires in listed.items() if expires <= now]
        for name in stale:
            key, stored = self._session(space, name)
            if stored is None:
                del listed[name]
                self._cache.delete(key)
            else:
                listed[name] = stored["expires"]
        if stale:
            self._cache.set(_SESSIONS + space, listed)
        return listed

    def _session(self, space: str, name: str) -> tuple[str | bytes, dict[str, Any] | None]:
        key = _storable(f"{_SESSION}{space}\x1f{name}")
        raw = self._cache.get(key)
        stored = None if raw is None else record_value(raw)
        if stored is not None and stored["expires"] <= time.time():
            stored = None
        return key, stored

    def session_open(
        self, space: str, name: str, fields: dict[str, Any], ttl: float, *, limit: int = 0
    ) -> str:
        """Create a session (see :class:`~toolsim.cache.backend.SupportsSessions`)."""
        with self._cache.transact():
            listed = self._live_sessions(space)
            if name in listed:
                return EXISTS
            if limit > 0 and len(listed) >= limit:
                return FULL
            expires = time.time() + ttl
            stored = {"fields": fields, "log": [], "expires": expires}
            self._cache.set(_storable(f"{_SESSION}{space}\x1f{name}"), record_json(stored))
            self._cache.set(_SESSIONS + space, {**listed, name: expires})
            return OPENED

    def session_read(self, space: str, name: str, *, log: bool = True) -> Session | None:
        """The session's fields and log; None if there is none."""
        _key, stored = self._session(space, name)
        if stored is None:
            return None
        return Session(stored["fields"], stored["log"] if log else [])

    def session_change(
        self,
        space: str,
        name: str,
        *,
        ttl: float,
        fields: dict[str, Any] | None = None,
        add: dict[str, float] | None = None,
        caps: dict[str, float] | None = None,
        append: Sequence[Any] = (),
    ) -> SessionChange:
        """Change a session at once, or not at all (one SQLite transaction)."""
        with self._cache.transact():
            key, stored = self._session(space, name)
            if stored is None:
                return SessionChange(found=False)
            change = change_session(
                stored,
                expires=time.time() + ttl,
                fields=fields,
                add=add,
                caps=caps,
                append=append,
            )
            if change.capped is None:
                self._cache.set(key, record_json(stored))
            return change

    def session_close(self, space: str, name: str) -> bool:
        """Delete a session; whether it existed."""
        with self._cache.transact():
            key, stored = self._session(space, name)
            self._cache.delete(key)
            listed = dict(self._cache.get(_SESSIONS + space, {}))
            if listed.pop(name, None) is not None:
                self._cache.set(_SESSIONS + space, listed)
            return stored is not None

    def session_count(self, space: str) -> int:
        """How many sessions of the space are live."""
        with self._cache.transact():
            return len(self._live_sessions(space))

    @contextlib.contextmanager
    def lock(self, key: str, ttl: float, *, wait: float | None = None) -> Iterator[bool]:
        """Hold the lock on ``key`` across every process using this folder.

        diskcache's ``Lock`` recipe, with an owner token (an expired holder never
        releases its successor's lock) and a bounded wait: waits up to ``wait``
        seconds (default ``ttl``) and yields whether it got the lock.
        """
        name, token = _LOCK + key, uuid.uuid4().hex
        held = poll_until(
            lambda: self._cache.add(name, token, expire=ttl, retry=True),
            ttl if wait is None else wait,
        )
        try:
            yield held
        finally:
            if held:
                with self._cache.transact():
                    if self._cache.get(name) == token:
                        self._cache.delete(name)

    def close(self) -> None:
        """Close the SQLite connection."""
        self._cache.close()


def open_disk_backend(url: str, home: Path) -> DiskBackend:
    """``disk://[PATH]``: diskcache at PATH, or under ``home/cache``."""
    path = url.split("://", 1)[1]
    return DiskBackend(Path(path) if path else home / "cache")

"""The embedded default backend: diskcache (SQLite + files) under ``TOOLSIM_HOME``.

diskcache is safe to share between processes on one machine, so several server
workers can use one folder.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

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
    record_json,
    record_value,
)
from toolsim.cache.entry import CacheEntry
from toolsim.cache.salvage import DATABASE
from toolsim.catalog.models import ApiId
from toolsim.errors import UpstreamError
from toolsim.files import DamagedFile

_ENTRY = "e:"
_INDEX = "i:"
_INDEX_SIZE = "m:"
_COUNTERS = "c:counters"
_LOCK = "l:"
_SIZE = "n:entries"
_TALLY = "t:"
# Records (SupportsRecords): r:<table>\x1f<name> -> JSON object; each table's names are
# listed like an API's keys, as a numbered run (R:<table>\x1f<n>) with a counter (N:<table>).
_RECORD = "r:"
_RECORD_INDEX = "R:"
_RECORD_COUNT = "N:"
# Sessions (SupportsSessions): s:<space>\x1f<name> -> {"fields", "log", "expires"} as JSON, and
# S:<space> -> {name: expires}, the space's live sessions (pruned as they are counted).
_SESSION = "s:"
_SESSIONS = "S:"


#: How to mend a damaged cache folder (named in every error about one).
REPAIR = "stop toolsim and run `toolsim cache repair` to salvage what is readable"

F = TypeVar("F", bound=Callable[..., Any])


def _damage_named(method: F) -> F:
    """A damaged file found while serving: an error naming the file (never a bare 500)."""

    def damaged(self: DiskBackend, exc: sqlite3.DatabaseError) -> UpstreamError:
        # The store failed (as a Redis that fails is): an infrastructure failure.
        return UpstreamError(f"the cache file {self.database} is damaged ({exc}): {REPAIR}")

    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def reading(self: DiskBackend, *args: Any, **kwargs: Any) -> Any:
            try:
                yield from method(self, *args, **kwargs)
            except sqlite3.DatabaseError as exc:
                raise damaged(self, exc) from exc

        return reading  # type: ignore[return-value]

    @functools.wraps(method)
    def calling(self: DiskBackend, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise damaged(self, exc) from exc

    return calling  # type: ignore[return-value]


def check_database(database: Path) -> None:
    """Raise :class:`~toolsim.files.DamagedFile` if SQLite finds ``database`` damaged.

    ``PRAGMA quick_check`` reads every page once (1.2 s for 100,000 replies, 151 MB,
    on a busy 2-core machine: ``perf/cache_integrity.py``): a cache with a damaged
    page is refused at start instead of failing the calls that happen to read it.
    """
    if database.stat().st_size == 0:
        # diskcache writes its tables on creation: an empty file lost everything it held.
        raise DamagedFile(database, "is empty (0 bytes)", remedy=REPAIR)
    try:
        with contextlib.closing(sqlite3.connect(database)) as connection:
            found = connection.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        raise DamagedFile(database, f"is damaged ({exc})", remedy=REPAIR) from None
    if found != [("ok",)]:
        detail = "; ".join(str(row[0]) for row in found[:3])
        raise DamagedFile(database, f"is damaged ({detail})", remedy=REPAIR)


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

    def __init__(self, directory: Path, *, check: bool = True) -> None:
        """Open (or create) the cache in ``directory``.

        With ``check`` (the default), a damaged file is found now, not by the first
        call that reads the damaged part: an empty database file, one SQLite cannot
        open, or one whose ``PRAGMA quick_check`` finds damage is a
        :class:`~toolsim.files.DamagedFile` naming it, with the repair command.
        """
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.database = directory / DATABASE
        if check and self.database.exists():
            check_database(self.database)
        try:
            # Entries are small; keep them inside SQLite rather than one file each.
            self._cache = diskcache.Cache(
                str(directory), size_limit=2**42, eviction_policy="none", disk_min_file_size=2**20
            )
        except sqlite3.DatabaseError as exc:
            raise DamagedFile(self.database, f"is damaged ({exc})", remedy=REPAIR) from None

    @_damage_named
    def get(self, key: str) -> CacheEntry | None:
        """Return the entry stored under ``key``, or None."""
        raw = self._cache.get(_ENTRY + key)
        return None if raw is None else entry_of(raw)

    def put(self, key: str, entry: CacheEntry) -> None:
        """Store one entry and list it under its API, in one transaction."""
        self.put_many([(key, entry)])

    @_damage_named
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

    @_damage_named
    def keys_for(self, api: ApiId, limit: int | None = None) -> list[str]:
        """Keys of the entries stored for one API, oldest first; the newest ``limit`` if given."""
        prefix = _api_prefix(api)
        size = int(self._cache.get(_INDEX_SIZE + prefix, 0))
        first = 0 if limit is None else max(0, size - limit)
        keys = (self._cache.get(f"{_INDEX}{prefix}\x1f{n}") for n in range(first, size))
        return [key for key in keys if key is not None]

    @_damage_named
    def items(self) -> Iterator[tuple[str, CacheEntry]]:
        """Every stored (key, entry)."""
        for raw_key in self._cache.iterkeys():
            if isinstance(raw_key, str) and raw_key.startswith(_ENTRY):
                raw = self._cache.get(raw_key)
                if raw is not None:
                    yield raw_key[len(_ENTRY) :], entry_of(raw)

    @_damage_named
    def __len__(self) -> int:
        return int(self._cache.get(_SIZE, 0))

    @_damage_named
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

    @_damage_named
    def counters(self) -> dict[str, int]:
        """Current values of all counters."""
        return dict(self._cache.get(_COUNTERS, {}))

    def tally(self, name: str, ttl: float) -> int:
        """Count one more occurrence of ``name`` in one SQLite transaction (every process on
        the folder shares it); return how many were counted before it."""
        stored = _storable(_TALLY + name)
        with self._cache.transact():
            count = int(self._cache.get(stored, 0))
            self._cache.set(stored, count + 1, expire=ttl)
        return count

    @_damage_named
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

    @_damage_named
    def records_get(self, table: str, names: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored records among ``names``."""
        found = {}
        for name in names:
            raw = self._cache.get(_record_key(table, name))
            if raw is not None:
                found[name] = record_value(raw)
        return found

    @_damage_named
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

    @_damage_named
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

    @_damage_named
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

    @_damage_named
    def session_read(self, space: str, name: str, *, log: bool = True) -> Session | None:
        """The session's fields and log; None if there is none."""
        _key, stored = self._session(space, name)
        if stored is None:
            return None
        return Session(stored["fields"], stored["log"] if log else [])

    @_damage_named
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

    @_damage_named
    def session_close(self, space: str, name: str) -> bool:
        """Delete a session; whether it existed."""
        with self._cache.transact():
            key, stored = self._session(space, name)
            self._cache.delete(key)
            listed = dict(self._cache.get(_SESSIONS + space, {}))
            if listed.pop(name, None) is not None:
                self._cache.set(_SESSIONS + space, listed)
            return stored is not None

    @_damage_named
    def session_count(self, space: str) -> int:
        """How many sessions of the space are live."""
        with self._cache.transact():
            return len(self._live_sessions(space))

    @_damage_named
    def try_lock(self, key: str, token: str, lease: float) -> bool:
        """Take the lock on ``key`` for ``token`` if it is free (an expiring ``add``)."""
        return bool(self._cache.add(_LOCK + key, token, expire=lease, retry=True))

    @_damage_named
    def renew_lock(self, key: str, token: str, lease: float) -> bool:
        """Extend ``token``'s lock to ``lease`` seconds from now, if it still holds it."""
        with self._cache.transact(retry=True):
            return self._cache.get(_LOCK + key) == token and bool(
                self._cache.touch(_LOCK + key, expire=lease)
            )

    @_damage_named
    def unlock(self, key: str, token: str) -> None:
        """Release the lock on ``key`` if ``token`` still holds it."""
        with self._cache.transact(retry=True):
            if self._cache.get(_LOCK + key) == token:
                self._cache.delete(_LOCK + key)

    def close(self) -> None:
        """Close the SQLite connection."""
        self._cache.close()


def disk_folder(url: str | None, home: Path) -> Path | None:
    """The folder of a ``disk://[PATH]`` cache URL (no URL: ``home/cache``); None for others."""
    url = url or "disk://"
    if not url.startswith("disk://"):
        return None
    path = url.split("://", 1)[1]
    return Path(path) if path else home / "cache"


def open_disk_backend(url: str, home: Path) -> DiskBackend:
    """``disk://[PATH]``: diskcache at PATH, or under ``home/cache``."""
    folder = disk_folder(url, home)
    assert folder is not None  # the registry hands this factory disk:// URLs only
    return DiskBackend(folder)

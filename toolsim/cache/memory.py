"""An in-process backend: for tests and throwaway servers (``memory://``)."""

from __future__ import annotations

import copy
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from toolsim.cache.backend import (
    EXISTS,
    FULL,
    OPENED,
    Session,
    SessionChange,
    change_session,
)
from toolsim.cache.entry import CacheEntry
from toolsim.catalog.models import ApiId

#: Tallies kept before the expired ones are dropped.
_MAX_TALLIES = 100_000


class MemoryBackend:
    """A :class:`~toolsim.cache.backend.CacheBackend` held in a dict; lost on exit."""

    def __init__(self) -> None:
        self._entries: dict[str, CacheEntry] = {}
        self._index: dict[ApiId, list[str]] = defaultdict(list)
        self._counters: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._held: dict[str, tuple[str, float]] = {}  # key -> (token, expiry)
        self._records: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self._tallies: dict[str, tuple[int, float]] = {}  # name -> (count, expiry)
        # space -> name -> {"fields", "log", "expires"} (SupportsSessions)
        self._sessions: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)

    def get(self, key: str) -> CacheEntry | None:
        """Return the entry stored under ``key``, or None."""
        return self._entries.get(key)

    def put(self, key: str, entry: CacheEntry) -> None:
        """Store one entry."""
        self.put_many([(key, entry)])

    def put_many(self, items: Iterable[tuple[str, CacheEntry]]) -> int:
        """Store many entries."""
        count = 0
        with self._lock:
            for key, entry in items:
                if key not in self._entries:
                    self._index[(entry.category, entry.tool, entry.api)].append(key)
                self._entries[key] = entry
                count += 1
        return count

    def keys_for(self, api: ApiId, limit: int | None = None) -> list[str]:
        """Keys of the entries stored for one API, oldest first; the newest ``limit`` if given."""
        keys = self._index.get(api, [])
        return list(keys if limit is None else keys[max(0, len(keys) - limit) :])

    def items(self) -> Iterator[tuple[str, CacheEntry]]:
        """Every stored (key, entry)."""
        yield from list(self._entries.items())

    def __len__(self) -> int:
        return len(self._entries)

    def add_counters(self, deltas: dict[str, int]) -> None:
        """Add to counters."""
        with self._lock:
            self._counters.update(deltas)

    def counters(self) -> dict[str, int]:
        """Current values of all counters."""
        return dict(self._counters)

    def tally(self, name: str, ttl: float) -> int:
        """Count one more occurrence of ``name``; return how many were counted before it."""
        now = time.monotonic()
        with self._lock:
            if len(self._tallies) >= _MAX_TALLIES:  # forget the expired ones, now and then
                self._tallies = {n: t for n, t in self._tallies.items() if t[1] > now}
            count, expiry = self._tallies.get(name, (0, now))
            count = count if expiry > now else 0
            self._tallies[name] = (count + 1, now + ttl)
            return count

    def records_merge(self, table: str, records: dict[str, dict[str, Any]]) -> None:
        """Add the fields each record lacks (first writer wins)."""
        with self._lock:
            stored = self._records[table]
            for name, fields in records.items():
                if not fields:
                    continue
                current = stored.setdefault(name, {})
                for field, value in fields.items():
                    current.setdefault(field, value)

    def records_get(self, table: str, names: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored records among ``names``."""
        with self._lock:
            stored = self._records.get(table, {})
            return {name: dict(stored[name]) for name in names if name in stored}

    def records_items(self, table: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every (name, record) of a table, oldest first."""
        with self._lock:
            copied = [(name, dict(fields)) for name, fields in self._records.get(table, {}).items()]
        yield from copied

    def records_clear(self, table: str) -> int:
        """Delete a table."""
        with self._lock:
            return len(self._records.pop(table, {}))

    def _live(self, space: str) -> dict[str, dict[str, Any]]:
        """The space's sessions, the expired ones dropped (call with the lock held)."""
        sessions = self._sessions[space]
        now = time.time()
        for name in [name for name, stored in sessions.items() if stored["expires"] <= now]:
            del sessions[name]
        return sessions

    def session_open(
        self, space: str, name: str, fields: dict[str, Any], ttl: float, *, limit: int = 0
    ) -> str:
        """Create a session (see :class:`~toolsim.cache.backend.SupportsSessions`)."""
        with self._lock:
            sessions = self._live(space)
            if name in sessions:
                return EXISTS
            if limit > 0 and len(sessions) >= limit:
                return FULL
            # Copies in and out, as a shared store would: no caller sees another's objects.
            sessions[name] = {
                "fields": copy.deepcopy(fields),
                "log": [],
                "expires": time.time() + ttl,
            }
            return OPENED

    def session_read(self, space: str, name: str, *, log: bool = True) -> Session | None:
        """The session's fields and log; None if there is none."""
        with self._lock:
            stored = self._live(space).get(name)
            if stored is None:
                return None
            return Session(
                copy.deepcopy(stored["fields"]), copy.deepcopy(stored["log"]) if log else []
            )

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
        """Change a session at once, or not at all."""
        with self._lock:
            stored = self._live(space).get(name)
            if stored is None:
                return SessionChange(found=False)
            return change_session(
                stored,
                expires=time.time() + ttl,
                fields=copy.deepcopy(fields),
                add=add,
                caps=caps,
                append=copy.deepcopy(list(append)),
            )

    def session_close(self, space: str, name: str) -> bool:
        """Delete a session; whether it existed."""
        with self._lock:
            return self._live(space).pop(name, None) is not None

    def session_count(self, space: str) -> int:
        """How many sessions of the space are live."""
        with self._lock:
            return len(self._live(space))

    def try_lock(self, key: str, token: str, lease: float) -> bool:
        """Take the lock on ``key`` for ``token`` if it is free (or its lease ran out)."""
        with self._lock:
            now = time.monotonic()
            held = self._held.get(key)
            if held is not None and held[1] > now:
                return False
            self._held[key] = (token, now + lease)
            return True

    def renew_lock(self, key: str, token: str, lease: float) -> bool:
        """Extend ``token``'s lock to ``lease`` seconds from now, if it still holds it."""
        with self._lock:
            held = self._held.get(key)
            if held is None or held[0] != token or held[1] <= time.monotonic():
                return False
            self._held[key] = (token, time.monotonic() + lease)
            return True

    def unlock(self, key: str, token: str) -> None:
        """Release the lock on ``key`` if ``token`` still holds it."""
        with self._lock:
            if self._held.get(key, ("",))[0] == token:
                del self._held[key]

    def close(self) -> None:
        """Nothing to release."""


def open_memory_backend(url: str, home: Path) -> MemoryBackend:
    """``memory://``: a fresh store in this process (tests, throwaway runs)."""
    return MemoryBackend()

"""An in-process backend: for tests and throwaway servers (``memory://``)."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

from toolsim.cache.backend import ApiRef, register_backend
from toolsim.cache.entry import CacheEntry


class MemoryBackend:
    """A :class:`~toolsim.cache.backend.CacheBackend` held in a dict; lost on exit."""

    def __init__(self) -> None:
        self._entries: dict[str, CacheEntry] = {}
        self._index: dict[ApiRef, list[str]] = defaultdict(list)
        self._counters: Counter[str] = Counter()
        self._lock = threading.Lock()

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

    def keys_for(self, api: ApiRef, limit: int | None = None) -> list[str]:
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

    def close(self) -> None:
        """Nothing to release."""


@register_backend("memory")
def _open_memory(url: str, home: Path) -> MemoryBackend:
    return MemoryBackend()

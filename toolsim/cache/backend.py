"""The storage Protocol every cache backend implements, and the backend registry."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from toolsim.cache.entry import CacheEntry
from toolsim.errors import UserError

ApiRef = tuple[str, str, str]
"""(category folder, standardized tool, standardized API)."""


@runtime_checkable
class CacheBackend(Protocol):
    """Durable key -> entry storage with a per-API listing and shared counters."""

    def get(self, key: str) -> CacheEntry | None:
        """Return the entry stored under ``key``, or None."""
        ...

    def put(self, key: str, entry: CacheEntry) -> None:
        """Store (or overwrite) one entry; durable when this returns."""
        ...

    def put_many(self, items: Iterable[tuple[str, CacheEntry]]) -> int:
        """Store many entries at once; return how many were written."""
        ...

    def keys_for(self, api: ApiRef, limit: int | None = None) -> list[str]:
        """Keys of the entries stored for one API, oldest first; the newest ``limit`` if given."""
        ...

    def items(self) -> Iterator[tuple[str, CacheEntry]]:
        """Every stored (key, entry)."""
        ...

    def __len__(self) -> int:
        """Number of stored entries."""
        ...

    def add_counters(self, deltas: dict[str, int]) -> None:
        """Atomically add to named counters shared by every process using this store."""
        ...

    def counters(self) -> dict[str, int]:
        """Current values of all counters."""
        ...

    def close(self) -> None:
        """Release files and connections."""
        ...


BackendFactory = Callable[[str, Path], CacheBackend]
_BACKENDS: dict[str, BackendFactory] = {}


def register_backend(scheme: str) -> Callable[[BackendFactory], BackendFactory]:
    """Register a backend factory for URLs of the form ``<scheme>://...``."""

    def decorate(factory: BackendFactory) -> BackendFactory:
        _BACKENDS[scheme] = factory
        return factory

    return decorate


def open_backend(url: str | None, home: Path) -> CacheBackend:
    """Open the backend a cache URL names; no URL means diskcache under ``home``.

    Known schemes: ``disk://[PATH]`` (the default), ``memory://`` (tests), and
    any registered by extensions.
    """
    # Imported for their registration side effect.
    from toolsim.cache import disk, memory  # noqa: F401

    scheme = (url or "disk://").split("://", 1)[0] if "://" in (url or "disk://") else ""
    factory = _BACKENDS.get(scheme)
    if factory is None:
        known = ", ".join(f"{name}://" for name in sorted(_BACKENDS))
        raise UserError(f"unknown cache URL {url!r}; known schemes: {known}")
    return factory(url or "disk://", home)

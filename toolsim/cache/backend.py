"""The storage Protocol every cache backend implements, and the backend registry.

Backends are chosen by the cache URL's scheme; toolsim's own (``disk``, ``memory``,
``redis``) are registered exactly like plug-ins (entry-point group
``toolsim.cache_backends``; see :mod:`toolsim.registry`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import orjson
from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from toolsim.cache.entry import CacheEntry
from toolsim.catalog.models import ApiId
from toolsim.errors import UserError
from toolsim.registry import Registry


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

    def keys_for(self, api: ApiId, limit: int | None = None) -> list[str]:
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


@runtime_checkable
class SupportsLock(Protocol):
    """An optional capability: a lease per key, shared by every process on the store.

    The server holds it around a miss's simulation so that several workers (or
    replicas) on one store simulate the same call only once at a time. Every
    method answers at once (one round trip at most), so a caller waits for a lock
    by trying again later, never by blocking a thread (see
    :func:`toolsim.cache.leases.leased`). A holder that stops renewing its lease (a
    crashed worker) loses the lock when the lease runs out. Backends without these
    methods still work; their workers may then simulate a call twice.
    """

    def try_lock(self, key: str, token: str, lease: float) -> bool:
        """Take the lock on ``key`` for ``token`` for ``lease`` seconds, if nobody holds it."""
        ...

    def renew_lock(self, key: str, token: str, lease: float) -> bool:
        """Hold on for ``lease`` seconds from now; False when ``token`` no longer holds the lock."""
        ...

    def unlock(self, key: str, token: str) -> None:
        """Release the lock on ``key`` if ``token`` still holds it."""
        ...


@runtime_checkable
class ReportsDurability(Protocol):
    """An optional capability: a store that can say how it could lose acknowledged entries.

    Checked when a server starts (Redis: persistence and eviction settings).
    """

    def durability_problems(self) -> list[str]:
        """One sentence per way the store could lose stored entries; empty when none."""
        ...


@runtime_checkable
class SupportsTally(Protocol):
    """An optional capability: named tallies shared by every process on the store.

    ``tally`` counts one more occurrence of a name atomically and says how many
    came before, so processes (workers, replicas) that share the store number
    the occurrences of a thing alike, whichever of them sees it. A tally is
    forgotten ``ttl`` seconds after its last count, so the store does not fill
    with them. Seeded faults (:mod:`toolsim.server.faults`) number the
    occurrences of each call this way.
    """

    def tally(self, name: str, ttl: float) -> int:
        """Count one more occurrence of ``name``; return how many were counted before it."""
        ...


@runtime_checkable
class SupportsRecords(Protocol):
    """An optional capability: small named records of fields, first writer wins per field.

    A table holds records (name -> {field: JSON value}). ``records_merge`` sets only
    the fields a record does not have yet, so concurrent writers (threads, workers,
    replicas on one store) never overwrite each other's first statement of a field,
    and is durable when it returns. The world's entity graph (``toolsim.world``)
    lives in such a table; the cache itself knows nothing about its contents.
    """

    def records_merge(self, table: str, records: dict[str, dict[str, Any]]) -> None:
        """Add every field a record lacks (creating records as needed), atomically per field."""
        ...

    def records_get(self, table: str, names: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored records among ``names`` (missing names are left out)."""
        ...

    def records_items(self, table: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every (name, record) of a table, oldest first."""
        ...

    def records_clear(self, table: str) -> int:
        """Delete a table; return how many records it held."""
        ...


#: What :meth:`SupportsSessions.session_open` reports.
OPENED, EXISTS, FULL = "opened", "exists", "full"


@dataclass(frozen=True, slots=True)
class Session:
    """A session as stored: its fields and its log (empty when not asked for)."""

    fields: dict[str, Any]
    log: list[Any]


@dataclass(frozen=True, slots=True)
class SessionChange:
    """What :meth:`SupportsSessions.session_change` did."""

    #: False: no such session (never opened, closed, or expired); nothing changed.
    found: bool
    #: The counter whose cap refused the change (then nothing changed), or None.
    capped: str | None = None
    #: The new value of every counter the change added to.
    totals: dict[str, float] = field(default_factory=dict)


@runtime_checkable
class SupportsSessions(Protocol):
    """An optional capability: expiring sessions, shared by every process on the store.

    A session, named within a space, holds fields (name -> JSON value) and an
    append-only log of JSON values. It expires ``ttl`` seconds after it was opened
    or last changed, so an abandoned one frees its room by itself. Every method is
    atomic, so replicas on one store can serve one session turn by turn, and a
    session outlives the process that opened it. Episodes (``toolsim.server.episodes``)
    live here; the cache knows nothing about what the fields mean.
    """

    def session_open(
        self, space: str, name: str, fields: dict[str, Any], ttl: float, *, limit: int = 0
    ) -> str:
        """Create a session: :data:`OPENED`, or :data:`EXISTS` (the name is taken), or
        :data:`FULL` (``limit`` > 0 sessions of the space are live)."""
        ...

    def session_read(self, space: str, name: str, *, log: bool = True) -> Session | None:
        """The session (with its log unless ``log`` is False); None if there is none."""
        ...

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
        """Set ``fields``, add to the counters in ``add``, append to the log, and restart the
        session's time to live, all at once; nothing at all if a counter would pass its cap
        in ``caps`` (a counter never set counts as 0)."""
        ...

    def session_close(self, space: str, name: str) -> bool:
        """Delete a session; whether it existed."""
        ...

    def session_count(self, space: str) -> int:
        """How many sessions of the space are live."""
        ...


def change_session(
    stored: dict[str, Any],
    *,
    expires: float,
    fields: dict[str, Any] | None,
    add: dict[str, float] | None,
    caps: dict[str, float] | None,
    append: Sequence[Any],
) -> SessionChange:
    """Apply a :meth:`SupportsSessions.session_change` to a session held as a dict.

    The one rule of the in-process stores (memory, disk): ``stored`` has
    ``fields``, ``log`` and ``expires`` and is changed in place (or not at all).
    """
    current = stored["fields"]
    for counter, delta in (add or {}).items():
        cap = (caps or {}).get(counter)
        if cap is not None and float(current.get(counter, 0)) + delta > cap:
            return SessionChange(found=True, capped=counter)
    current.update(fields or {})
    totals = {}
    for counter, delta in (add or {}).items():
        totals[counter] = current[counter] = float(current.get(counter, 0)) + delta
    stored["log"].extend(append)
    stored["expires"] = expires
    return SessionChange(found=True, totals=totals)


def record_json(value: Any) -> bytes:
    """A record field as JSON bytes, whatever JSON data it holds.

    orjson refuses integers beyond 64 bits and lone surrogates (``"\\ud800"``, which
    imported reference replies may carry and UTF-8 cannot); the stdlib writes those,
    escaped to ASCII. :func:`record_value` reads either back.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.dumps(value, ensure_ascii=True).encode()


def record_value(raw: bytes | str) -> Any:
    """A record field written by :func:`record_json`."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)  # an escaped lone surrogate, which orjson refuses


def entry_json(entry: CacheEntry) -> bytes:
    """An entry as JSON bytes; one holding a lone surrogate is written by the stdlib, escaped."""
    try:
        return entry.model_dump_json().encode()
    except PydanticSerializationError:
        return json.dumps(entry.model_dump(), ensure_ascii=True).encode()


def entry_of(raw: bytes | str) -> CacheEntry:
    """An entry written by :func:`entry_json`."""
    try:
        return CacheEntry.model_validate_json(raw)
    except ValidationError as exc:
        if exc.errors()[0]["type"] != "json_invalid":
            raise
        try:
            data = json.loads(raw)  # an escaped lone surrogate, which pydantic refuses
        except ValueError:
            raise exc from None
        return CacheEntry.model_validate(data)


BackendFactory = Callable[[str, Path], CacheBackend]

#: Backend factories by URL scheme (entry-point group ``toolsim.cache_backends``); each is
#: called with the cache URL and the home folder.
cache_backend_registry: Registry[BackendFactory] = Registry(
    "cache backend", "toolsim.cache_backends"
)

#: Register a backend factory for URLs of the form ``<scheme>://...`` (decorator).
register_backend = cache_backend_registry.register


def open_backend(url: str | None, home: Path) -> CacheBackend:
    """Open the backend a cache URL names; no URL means diskcache under ``home``.

    Known schemes: ``disk://[PATH]`` (the default), ``memory://`` (tests),
    ``redis://``/``rediss://`` (Redis or Valkey), and any a plug-in registers.
    """
    url = url or "disk://"
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in cache_backend_registry:
        known = ", ".join(f"{name}://" for name in cache_backend_registry.names())
        raise UserError(f"unknown cache URL {url!r}; known schemes: {known}")
    return cache_backend_registry.get(scheme)(url, home)

"""A shared backend on Redis or Valkey (``redis://``, ``rediss://``), for replicas on many machines.

Layout, under a prefix (``toolsim`` unless the URL says ``?prefix=...``):

* ``<prefix>:e:<key>``: the entry, as JSON;
* ``<prefix>:i:<category>\\x1f<tool>\\x1f<api>``: a list of the API's keys, oldest first;
* ``<prefix>:n``: the number of entries; ``<prefix>:c``: a hash of shared counters;
* ``<prefix>:l:<key>``: a short lock while one worker simulates that call;
* ``<prefix>:r:<table>:<name>``: a record (a hash of JSON values, first writer wins per
  field) and ``<prefix>:R:<table>``: the list of a table's record names, oldest first;
* ``<prefix>:s:<space>:<name>``: a session's fields (a hash of JSON values) and
  ``<prefix>:sl:<space>:<name>``: its log, both expiring; ``<prefix>:S:<space>``: the
  space's sessions scored by when they expire (see ``SupportsSessions``).

The ``redis`` client is imported on first use, so toolsim runs without it
unless a Redis URL is given (``pip install 'toolsim[redis]'``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from toolsim.cache.backend import (
    Session,
    SessionChange,
    entry_json,
    entry_of,
    record_json,
    record_value,
)
from toolsim.cache.entry import CacheEntry
from toolsim.catalog.models import ApiId
from toolsim.errors import UpstreamError, UserError
from toolsim.optional import import_optional
from toolsim.redact import redacted

if TYPE_CHECKING:
    import redis as redis_client

DEFAULT_PREFIX = "toolsim"
BATCH = 500

# Store an entry; list it under its API and count it only if it is new. A script
# runs atomically, so concurrent writers of one key list it exactly once.
_PUT = """
local fresh = redis.call('EXISTS', KEYS[1]) == 0
redis.call('SET', KEYS[1], ARGV[1])
if fresh then
  redis.call('RPUSH', KEYS[2], ARGV[2])
  redis.call('INCR', KEYS[3])
  return 1
end
return 0
"""

# Merge one record: set each field only if absent (first writer wins); list the record's
# name under its table when the record is new. ARGV: name, then field/value pairs.
_MERGE = """
local fresh = redis.call('EXISTS', KEYS[1]) == 0
for i = 2, #ARGV, 2 do
  redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1])
end
if fresh then
  redis.call('RPUSH', KEYS[2], ARGV[1])
end
return fresh and 1 or 0
"""

# A lock is released or renewed only by its holder (an expired holder must not
# touch its successor's lock): compare the owner token and act in one script.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# Open a session: drop the space's expired names; refuse a taken name, or a full space;
# else write the fields (with the "" marker, so a session without fields exists too).
# KEYS: hash, space index. ARGV: now ms, ttl ms, limit, name, then field/value pairs.
_OPEN = """
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
local limit = tonumber(ARGV[3])
if limit > 0 and redis.call('ZCARD', KEYS[2]) >= limit then return 'full' end
redis.call('HSET', KEYS[1], '', '0')
for i = 5, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], tonumber(ARGV[1]) + tonumber(ARGV[2]), ARGV[4])
return 'opened'
"""

# Change a session at once, or not at all: {0} if it is gone, {2, counter} if a cap
# refuses, else {1, counter, total, ...}. KEYS: hash, log, space index. ARGV: now ms,
# ttl ms, name, #fields, #adds, #caps, then field/value, counter/delta, counter/cap pairs,
# then the log items.
_CHANGE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local nset, nadd, ncap = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local set_at = 7
local add_at = set_at + 2 * nset
local cap_at = add_at + 2 * nadd
local log_at = cap_at + 2 * ncap
local caps = {}
for j = cap_at, log_at - 1, 2 do caps[ARGV[j]] = tonumber(ARGV[j + 1]) end
for j = add_at, cap_at - 1, 2 do
  local cap = caps[ARGV[j]]
  if cap then
    local now = tonumber(redis.call('HGET', KEYS[1], ARGV[j]) or '0')
    if now + tonumber(ARGV[j + 1]) > cap then return {2, ARGV[j]} end
  end
end
for j = set_at, add_at - 1, 2 do redis.call('HSET', KEYS[1], ARGV[j], ARGV[j + 1]) end
local totals = {1}
for j = add_at, cap_at - 1, 2 do
  table.insert(totals, ARGV[j])
  table.insert(totals, redis.call('HINCRBYFLOAT', KEYS[1], ARGV[j], ARGV[j + 1]))
end
for j = log_at, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[j]) end
local ttl = tonumber(ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ttl) end
redis.call('ZADD', KEYS[3], tonumber(ARGV[1]) + ttl, ARGV[3])
return totals
"""

F = TypeVar("F", bound=Callable[..., Any])


def _redis_errors(method: F) -> F:
    """Report a Redis failure during a call as an :class:`UpstreamError` naming the server."""

    @functools.wraps(method)
    def wrapper(self: RedisBackend, *args: Any, **kwargs: Any) -> Any:
        import redis as redis_client

        try:
            return method(self, *args, **kwargs)
        except redis_client.RedisError as exc:
            raise UpstreamError(f"Redis at {self.address} failed: {exc}") from exc

    return wrapper  # type: ignore[return-value]


def _glob_escape(text: str) -> str:
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)


class RedisBackend:
    """A :class:`~toolsim.cache.backend.CacheBackend` on a Redis/Valkey server, shared by all.

    Also :class:`~toolsim.cache.backend.SupportsLock`: a Redis ``SET NX PX`` lock
    with an owner token, so workers on any machine simulate a call once at a time.
    """

    def __init__(
        self, client: redis_client.Redis, *, prefix: str = DEFAULT_PREFIX, address: str = ""
    ) -> None:
        self._client = client
        self.prefix = prefix
        self.address = address or "Redis"
        self._put_script = client.register_script(_PUT)
        self._merge_script = client.register_script(_MERGE)
        self._renew_script = client.register_script(_RENEW)
        self._unlock_script = client.register_script(_UNLOCK)
        self._open_script = client.register_script(_OPEN)
        self._change_script = client.register_script(_CHANGE)

    def _entry_key(self, key: str) -> str:
        return f"{self.prefix}:e:{key}"

    def _index_key(self, api: ApiId) -> str:
        # \x1f cannot appear in standardized names, so the key is unambiguous.
        return f"{self.prefix}:i:" + "\x1f".join(api)

    @_redis_errors
    def get(self, key: str) -> CacheEntry | None:
        """Return the entry stored under ``key``, or None."""
        raw = self._client.get(self._entry_key(key))
        return None if raw is None else entry_of(raw)

    def put(self, key: str, entry: CacheEntry) -> None:
        """Store one entry and list it under its API if it is new."""
        self.put_many([(key, entry)])

    @_redis_errors
    def put_many(self, items: Iterable[tuple[str, CacheEntry]]) -> int:
        """Store many entries, pipelined in batches of :data:`BATCH`."""
        count = 0
        pending = iter(items)
        while batch := list(islice(pending, BATCH)):
            # Not a transaction: each script is atomic, and a batch cut short
            # leaves only whole entries behind.
            pipe = self._client.pipeline(transaction=False)
            for key, entry in batch:
                keys = [
                    self._entry_key(key),
                    self._index_key((entry.category, entry.tool, entry.api)),
                    f"{self.prefix}:n",
                ]
                self._put_script(keys=keys, args=[entry_json(entry), key], client=pipe)
            pipe.execute()
            count += len(batch)
        return count

    @_redis_errors
    def keys_for(self, api: ApiId, limit: int | None = None) -> list[str]:
        """Keys of the entries stored for one API, oldest first; the newest ``limit`` if given."""
        if limit is not None and limit <= 0:
            return []
        start = 0 if limit is None else -limit
        # str(): the client decodes replies, but its types allow bytes.
        return [str(key) for key in self._client.lrange(self._index_key(api), start, -1)]

    def items(self) -> Iterator[tuple[str, CacheEntry]]:
        """Every stored (key, entry), found with ``SCAN`` and read in batches."""
        import redis as redis_client

        strip = len(self._entry_key(""))
        seen: set[str] = set()  # SCAN may return a key twice while Redis rehashes
        try:
            names = self._client.scan_iter(
                match=_glob_escape(self._entry_key("")) + "*", count=1000
            )
            while batch := [name for name in islice(names, BATCH) if name not in seen]:
                seen.update(batch)
                for name, raw in zip(batch, self._client.mget(batch), strict=True):
                    if raw is not None:  # deleted since the scan saw it
                        yield name[strip:], entry_of(raw)
        except redis_client.RedisError as exc:
            raise UpstreamError(f"Redis at {self.address} failed: {exc}") from exc

    @_redis_errors
    def __len__(self) -> int:
        return int(self._client.get(f"{self.prefix}:n") or 0)

    @_redis_errors
    def add_counters(self, deltas: dict[str, int]) -> None:
        """Add to the shared counters in one transaction."""
        pipe = self._client.pipeline(transaction=True)
        for name, delta in deltas.items():
            if delta:
                pipe.hincrby(f"{self.prefix}:c", name, delta)
        pipe.execute()

    @_redis_errors
    def counters(self) -> dict[str, int]:
        """Current values of all counters."""
        stored = self._client.hgetall(f"{self.prefix}:c")
        return {str(name): int(value) for name, value in stored.items()}

    @_redis_errors
    def tally(self, name: str, ttl: float) -> int:
        """Count one more occurrence of ``name`` (``INCR`` and ``PEXPIRE`` in one transaction);
        return how many were counted before it."""
        pipe = self._client.pipeline(transaction=True)
        pipe.incr(f"{self.prefix}:t:{name}")
        pipe.pexpire(f"{self.prefix}:t:{name}", max(1, round(ttl * 1000)))
        count, _ = pipe.execute()
        return int(count) - 1

    def _record_key(self, table: str, name: str) -> str:
        return f"{self.prefix}:r:{table}:{name}"

    @_redis_errors
    def records_merge(self, table: str, records: dict[str, dict[str, Any]]) -> None:
        """Add the fields each record lacks (``HSETNX`` in one script per record, pipelined)."""
        if not records:
            return
        pipe = self._client.pipeline(transaction=False)
        for name, fields in records.items():
            if not fields:
                continue
            args: list[Any] = [name]
            for field, value in fields.items():
                args += [field, record_json(value)]
            keys = [self._record_key(table, name), f"{self.prefix}:R:{table}"]
            self._merge_script(keys=keys, args=args, client=pipe)
        pipe.execute()

    @_redis_errors
    def records_get(self, table: str, names: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored records among ``names``, read in one round trip."""
        wanted = list(names)
        if not wanted:
            return {}
        pipe = self._client.pipeline(transaction=False)
        for name in wanted:
            pipe.hgetall(self._record_key(table, name))
        found = {}
        for name, stored in zip(wanted, pipe.execute(), strict=True):
            if stored:
                found[name] = {str(f): record_value(v) for f, v in stored.items()}
        return found

    def records_items(self, table: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every (name, record) of a table, oldest first, read in batches."""
        start = 0
        while True:
            listing = f"{self.prefix}:R:{table}"
            names = self._call(self._client.lrange, listing, start, start + BATCH - 1)
            if not names:
                return
            yield from self.records_get(table, [str(name) for name in names]).items()
            start += BATCH

    @_redis_errors
    def records_clear(self, table: str) -> int:
        """Delete a table's records and listing."""
        listing = f"{self.prefix}:R:{table}"
        names = [str(name) for name in self._client.lrange(listing, 0, -1)]
        for chunk in range(0, len(names), BATCH):
            self._client.delete(*(self._record_key(table, n) for n in names[chunk : chunk + BATCH]))
        self._client.delete(listing)
        return len(names)

    def _session_keys(self, space: str, name: str) -> tuple[str, str, str]:
        return (
            f"{self.prefix}:s:{space}:{name}",
            f"{self.prefix}:sl:{space}:{name}",
            f"{self.prefix}:S:{space}",
        )

    @_redis_errors
    def session_open(
        self, space: str, name: str, fields: dict[str, Any], ttl: float, *, limit: int = 0
    ) -> str:
        """Create a session in one script (see :class:`~toolsim.cache.backend.SupportsSessions`)."""
        fields_key, _log_key, index_key = self._session_keys(space, name)
        args: list[Any] = [_ms(time.time()), _ms(ttl), limit, name]
        for field, value in fields.items():
            args += [field, record_json(value)]
        return str(self._open_script(keys=[fields_key, index_key], args=args))

    @_redis_errors
    def session_read(self, space: str, name: str, *, log: bool = True) -> Session | None:
        """The session's fields and log, read in one round trip; None if there is none."""
        fields_key, log_key, _index_key = self._session_keys(space, name)
        pipe = self._client.pipeline(transaction=True)
        pipe.hgetall(fields_key)
        if log:
            pipe.lrange(log_key, 0, -1)
        found = pipe.execute()
        stored = found[0]
        if not stored:
            return None
        fields = {str(f): record_value(v) for f, v in stored.items() if f != ""}
        items = [record_value(item) for item in found[1]] if log else []
        return Session(fields, items)

    @_redis_errors
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
        """Change a session at once, or not at all, in one script."""
        fields, add, caps = fields or {}, add or {}, caps or {}
        args: list[Any] = [_ms(time.time()), _ms(ttl), name, len(fields), len(add), len(caps)]
        for field, value in fields.items():
            args += [field, record_json(value)]
        for pairs in (add, caps):
            for counter, number in pairs.items():
                args += [counter, repr(float(number))]
        args += [record_json(item) for item in append]
        done = self._change_script(keys=list(self._session_keys(space, name)), args=args)
        if int(done[0]) == 0:
            return SessionChange(found=False)
        if int(done[0]) == 2:
            return SessionChange(found=True, capped=str(done[1]))
        totals = {str(done[i]): float(done[i + 1]) for i in range(1, len(done), 2)}
        return SessionChange(found=True, totals=totals)

    @_redis_errors
    def session_close(self, space: str, name: str) -> bool:
        """Delete a session; whether it existed."""
        fields_key, log_key, index_key = self._session_keys(space, name)
        pipe = self._client.pipeline(transaction=True)
        pipe.delete(fields_key)
        pipe.delete(log_key)
        pipe.zrem(index_key, name)
        return bool(pipe.execute()[0])

    @_redis_errors
    def session_count(self, space: str) -> int:
        """How many sessions of the space are live."""
        index_key = self._session_keys(space, "")[2]
        pipe = self._client.pipeline(transaction=True)
        pipe.zremrangebyscore(index_key, "-inf", _ms(time.time()))
        pipe.zcard(index_key)
        return int(pipe.execute()[1])

    @_redis_errors
    def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        return method(*args)

    def _lock_key(self, key: str) -> str:
        return f"{self.prefix}:l:{key}"

    @_redis_errors
    def try_lock(self, key: str, token: str, lease: float) -> bool:
        """Take the lock on ``key`` for ``token`` if it is free (``SET NX PX``)."""
        return bool(self._client.set(self._lock_key(key), token, nx=True, px=_ms(lease)))

    @_redis_errors
    def renew_lock(self, key: str, token: str, lease: float) -> bool:
        """Extend ``token``'s lock to ``lease`` seconds from now, if it still holds it."""
        return bool(self._renew_script(keys=[self._lock_key(key)], args=[token, _ms(lease)]))

    @_redis_errors
    def unlock(self, key: str, token: str) -> None:
        """Release the lock on ``key`` if ``token`` still holds it."""
        self._unlock_script(keys=[self._lock_key(key)], args=[token])

    def durability_problems(self) -> list[str]:
        """How this server could lose stored replies (empty when it keeps them safe).

        A replay cache must keep every acknowledged reply: with snapshots (RDB)
        alone, a restart loses everything written since the last one; an evicting
        ``maxmemory-policy`` drops replies when memory runs short, and they would be
        simulated again, differently. Managed servers may refuse ``CONFIG GET``:
        then that is said instead.
        """
        import redis as redis_client

        try:
            config = {
                **self._client.config_get("appendonly"),
                **self._client.config_get("maxmemory-policy"),
            }
        except redis_client.RedisError as exc:
            return [
                f"could not check how Redis at {self.address} keeps data ({exc}): make sure "
                "it runs with appendonly yes and maxmemory-policy noeviction"
            ]
        problems = []
        if str(config.get("appendonly", "")).lower() != "yes":
            problems.append(
                f"Redis at {self.address} keeps no append-only file (appendonly "
                f"{config.get('appendonly', '?')}): every reply stored since its last snapshot "
                "is lost if it restarts; run it with --appendonly yes"
            )
        policy = str(config.get("maxmemory-policy", ""))
        if policy.startswith("allkeys-"):
            problems.append(
                f"Redis at {self.address} evicts keys when memory runs short "
                f"(maxmemory-policy {policy}): stored replies would vanish and be simulated "
                "again, differently; set maxmemory-policy noeviction"
            )
        return problems

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


def _ms(seconds: float) -> int:
    """Seconds as the whole milliseconds Redis counts times in (at least 1: PX 0 is an error)."""
    return max(1, int(seconds * 1000))


def open_redis(url: str) -> RedisBackend:
    """Connect to the server a ``redis://`` / ``rediss://`` URL names and check it answers.

    ``?prefix=NAME`` (default ``toolsim``) namespaces every key, so several
    caches can share one server; other query options go to the client.
    """
    missing = UserError(f"cache URL {url!r} needs the redis client: pip install 'toolsim[redis]'")
    redis_client = import_optional("redis", missing)

    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((value for name, value in query if name == "prefix"), DEFAULT_PREFIX)
    if not prefix:
        raise UserError(f"cache URL {url!r}: prefix must not be empty")
    rest = urlencode([(name, value) for name, value in query if name != "prefix"])
    scheme = {"valkey": "redis", "valkeys": "rediss"}.get(parts.scheme, parts.scheme)
    address = redacted(urlunsplit(parts._replace(query="")))
    try:
        client = redis_client.Redis.from_url(
            urlunsplit((scheme, parts.netloc, parts.path, rest, "")),
            decode_responses=True,
            # Record names from imported replies may hold a lone surrogate, which UTF-8 cannot.
            encoding_errors="surrogatepass",
            socket_connect_timeout=5,
            socket_timeout=30,
        )
    except ValueError as exc:
        raise UserError(f"bad Redis URL {address}: {exc}") from None
    try:
        client.ping()
    except redis_client.AuthenticationError as exc:
        client.close()
        raise UserError(f"Redis at {address} refused the credentials: {exc}") from None
    except redis_client.RedisError as exc:
        client.close()
        raise UserError(f"cannot reach Redis at {address}: {exc}") from None
    return RedisBackend(client, prefix=prefix, address=address)


def open_redis_backend(url: str, home: Path) -> RedisBackend:
    """``redis://``, ``rediss://``, ``valkey://``, ``valkeys://``: a shared Redis/Valkey store."""
    return open_redis(url)

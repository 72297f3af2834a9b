"""Call counters: since this process started, and in total across restarts and workers.

Counting must not slow the hot path, so a call costs one in-memory increment
(a cache hit: one dict update, folded into the counters whenever they are read);
counts are added to the backend's shared counters in the background every few
seconds (and at shutdown). ``total`` is what is shared plus what is not yet.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from toolsim.cache.backend import CacheBackend

HIT, MISS, ERROR = "hits", "misses", "errors"
#: An injected fault (its source is the fault's kind); it is a request of its own.
FAULT = "faults"
#: Calls a fault profile delayed, and the milliseconds it added (not requests of their own).
DELAYED, DELAY_MS = "delayed", "delay_ms"
#: The outcomes a request ends with (each request is counted under exactly one).
_REQUEST_OUTCOMES = (HIT, MISS, ERROR, FAULT)

CounterKey = tuple[str, str, str]
"""What one call is counted under: (function name, outcome, answer source, fault kind or "")."""


class CallStats:
    """Counters of hits, misses and errors, by answer source and per API."""

    def __init__(self) -> None:
        self.started_at = time.time()
        self._since_start: Counter[CounterKey] = Counter()
        self._unflushed: Counter[CounterKey] = Counter()
        # Hits counted since the last fold: the hot path's only bookkeeping.
        self._hits: dict[CounterKey, int] = {}

    def count_hit(self, key: CounterKey) -> None:
        """Count one cache hit (``key`` is ``(function, "hits", source)``)."""
        hits = self._hits
        hits[key] = hits.get(key, 0) + 1

    def _fold(self) -> None:
        if self._hits:
            hits, self._hits = self._hits, {}
            self._since_start.update(hits)
            self._unflushed.update(hits)

    def take(self) -> Counter[CounterKey]:
        """Remove and return the counts not yet added to the backend."""
        self._fold()
        pending, self._unflushed = self._unflushed, Counter()
        return pending

    def give_back(self, pending: Counter[CounterKey]) -> None:
        """Return counts :meth:`take` removed but that could not be stored."""
        self._unflushed.update(pending)

    def record(self, function: str, outcome: str, source: str = "", *, amount: int = 1) -> None:
        """Count one call of ``function`` with outcome hit/miss/error, answered by ``source``
        (for a fault: its kind); ``amount`` adds more than one (milliseconds of delay)."""
        key = (function, outcome, source)
        self._since_start[key] += amount
        self._unflushed[key] += amount

    def flush(self, backend: CacheBackend) -> None:
        """Add unflushed counts to the backend's shared counters (on the calling thread)."""
        pending = self.take()
        if not pending:
            return
        try:
            backend.add_counters(named(pending))
        except Exception:
            # Keep the counts for the next flush rather than lose them.
            self.give_back(pending)
            raise

    def snapshot(self, backend: CacheBackend) -> dict[str, Any]:
        """The ``/stats`` document, reading the backend on the calling thread."""
        return self.document(backend.counters(), len(backend))

    def document(self, shared: dict[str, int], entries: int) -> dict[str, Any]:
        """The ``/stats`` document from the backend's counters and number of entries.

        Exact when ``shared`` was read while no flush of this process was writing.
        """
        self._fold()
        total = Counter(shared)
        total.update(named(self._unflushed))
        return {
            "since_start": _shape(Counter(named(self._since_start))),
            "total": _shape(total),
            "started_at": self.started_at,
            "entries": entries,
        }


def named(counts: Counter[CounterKey]) -> dict[str, int]:
    """Counts by counter key as the flat counter names the backend stores."""
    # Flat names keep the shared counters backend-agnostic (diskcache, Redis).
    # Plain dicts: one entry per API, and a Counter's increments cost twice as much.
    per_api: dict[str, int] = {}
    totals: dict[str, int] = {}
    for (function, outcome, source), value in counts.items():
        name = f"api:{function}:{outcome}"
        per_api[name] = per_api.get(name, 0) + value
        totals[outcome] = totals.get(outcome, 0) + value
        if source:
            name = f"{'fault' if outcome == FAULT else 'source'}:{source}"
            totals[name] = totals.get(name, 0) + value
    totals["requests"] = sum(
        v for (_, outcome, _), v in counts.items() if outcome in _REQUEST_OUTCOMES
    )
    return totals | per_api


def _shape(counts: Counter[str]) -> dict[str, Any]:
    per_api: dict[str, dict[str, int]] = {}
    by_source: dict[str, int] = {}
    by_fault: dict[str, int] = {}
    for name, value in counts.items():
        if name.startswith("api:"):
            function, outcome = name[4:].rsplit(":", 1)
            per_api.setdefault(function, {HIT: 0, MISS: 0, ERROR: 0})[outcome] = value
        elif name.startswith("source:"):
            by_source[name[7:]] = value
        elif name.startswith("fault:"):
            by_fault[name[6:]] = value
    shape: dict[str, Any] = {
        "requests": counts.get("requests", 0),
        HIT: counts.get(HIT, 0),
        MISS: counts.get(MISS, 0),
        ERROR: counts.get(ERROR, 0),
        "by_source": dict(sorted(by_source.items())),
        "per_api": dict(sorted(per_api.items())),
    }
    if by_fault or counts.get(DELAYED):
        # Only with a fault profile: injected faults by kind, and the latency added.
        shape[FAULT] = counts.get(FAULT, 0)
        shape["faults_by_kind"] = dict(sorted(by_fault.items()))
        shape[DELAYED] = counts.get(DELAYED, 0)
        shape[DELAY_MS] = counts.get(DELAY_MS, 0)
    return shape

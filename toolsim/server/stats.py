"""Call counters: since this process started, and in total across restarts and workers.

Counting must not slow the hot path, so a call costs one in-memory increment;
counts are added to the backend's shared counters in the background every few
seconds (and at shutdown). ``total`` is what is shared plus what is not yet.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from toolsim.cache.backend import CacheBackend

HIT, MISS, ERROR = "hits", "misses", "errors"

Outcome = tuple[str, str, str]
"""(function name, hits|misses|errors, answer source or "")."""


class CallStats:
    """Counters of hits, misses and errors, by answer source and per API."""

    def __init__(self) -> None:
        self.started_at = time.time()
        self._since_start: Counter[Outcome] = Counter()
        self._unflushed: Counter[Outcome] = Counter()

    def record(self, function: str, outcome: str, source: str = "") -> None:
        """Count one call of ``function`` with outcome hit/miss/error, answered by ``source``."""
        key = (function, outcome, source)
        self._since_start[key] += 1
        self._unflushed[key] += 1

    def flush(self, backend: CacheBackend) -> None:
        """Add unflushed counts to the backend's shared counters."""
        if not self._unflushed:
            return
        pending, self._unflushed = self._unflushed, Counter()
        try:
            backend.add_counters(_named(pending))
        except Exception:
            # Keep the counts for the next flush rather than lose them.
            self._unflushed.update(pending)
            raise

    def snapshot(self, backend: CacheBackend) -> dict[str, Any]:
        """The ``/stats`` document: since start, total, and the number of stored entries."""
        total = Counter(backend.counters())
        total.update(_named(self._unflushed))
        return {
            "since_start": _shape(Counter(_named(self._since_start))),
            "total": _shape(total),
            "started_at": self.started_at,
            "entries": len(backend),
        }


def _named(counts: Counter[Outcome]) -> dict[str, int]:
    # Flat names keep the shared counters backend-agnostic (diskcache, Redis).
    named: Counter[str] = Counter()
    for (function, outcome, source), value in counts.items():
        named["requests"] += value
        named[outcome] += value
        named[f"api:{function}:{outcome}"] += value
        if source:
            named[f"source:{source}"] += value
    return dict(named)


def _shape(counts: Counter[str]) -> dict[str, Any]:
    per_api: dict[str, dict[str, int]] = {}
    by_source: dict[str, int] = {}
    for name, value in counts.items():
        if name.startswith("api:"):
            function, outcome = name[4:].rsplit(":", 1)
            per_api.setdefault(function, {HIT: 0, MISS: 0, ERROR: 0})[outcome] = value
        elif name.startswith("source:"):
            by_source[name[7:]] = value
    return {
        "requests": counts.get("requests", 0),
        HIT: counts.get(HIT, 0),
        MISS: counts.get(MISS, 0),
        ERROR: counts.get(ERROR, 0),
        "by_source": dict(sorted(by_source.items())),
        "per_api": dict(sorted(per_api.items())),
    }

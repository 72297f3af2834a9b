"""``GET /metrics``: Prometheus text exposition (format 0.0.4), written by hand.

Every number is the cache store's, not this process's: the counters are the
shared ones behind ``/stats`` ``total``, and simulator latency and request
time-outs are added to them the same way. A scrape answered by any worker of a
multi-worker server, or by any replica on one Redis, so sees the same monotonic
series; per-process counters would jump back and forth between workers behind
one port. (``prometheus_client`` solves that only within one machine, through a
directory of memory-mapped files set up before every worker starts.)

Per-API series are left to ``/stats``: a full ToolBench catalog has tens of
thousands of APIs, too many series for a scrape.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

import toolsim
from toolsim.cache.backend import CacheBackend
from toolsim.cache.entry import Source
from toolsim.server.stats import ERROR, HIT, MISS

if TYPE_CHECKING:
    from toolsim.server.service import ToolService

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: Upper bounds (seconds) of the simulator latency buckets. Stored counts are
#: keyed by these bounds, so changing them starts new series.
LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

_BUCKET = "simulation_seconds:le="
_SUM_US = "simulation_seconds:sum_us"
_COUNT = "simulation_seconds:count"
_TIMEOUTS = "request_timeouts"


class Measurements:
    """Simulator latency and request time-outs, counted in memory and flushed to the store.

    Like :class:`~toolsim.server.stats.CallStats`, recording costs an in-memory
    increment; :meth:`flush` adds the counts to the backend's shared counters.
    """

    def __init__(self) -> None:
        self._unflushed: Counter[str] = Counter()

    def observe_simulation(self, seconds: float) -> None:
        """Count one simulator call that took ``seconds``."""
        index = bisect.bisect_left(LATENCY_BUCKETS, seconds)
        bound = _label_float(LATENCY_BUCKETS[index]) if index < len(LATENCY_BUCKETS) else "+Inf"
        self._unflushed[_BUCKET + bound] += 1
        self._unflushed[_SUM_US] += max(0, round(seconds * 1_000_000))
        self._unflushed[_COUNT] += 1

    def count_timeout(self) -> None:
        """Count one request cut off by the per-request time limit."""
        self._unflushed[_TIMEOUTS] += 1

    def take(self) -> Counter[str]:
        """Remove and return the counts not yet added to the backend."""
        pending, self._unflushed = self._unflushed, Counter()
        return pending

    def give_back(self, pending: Counter[str]) -> None:
        """Return counts :meth:`take` removed but that could not be stored."""
        self._unflushed.update(pending)

    def flush(self, backend: CacheBackend) -> None:
        """Add unflushed counts to the backend's shared counters (kept on failure)."""
        pending = self.take()
        if not pending:
            return
        try:
            backend.add_counters(dict(pending))
        except Exception:
            self.give_back(pending)
            raise


async def exposition(service: ToolService) -> str:
    """The ``/metrics`` document for the store behind ``service``."""
    # Flushing first makes this process's counts current.
    await service.counters.flush()
    counters, entries = await service.counters.read()
    return render(counters, entries, mode=service.mode.value, simulator=service.simulator.name)


def render(counters: dict[str, int], entries: int, *, mode: str, simulator: str) -> str:
    """Format shared counters and the number of stored entries as Prometheus text."""
    lines: list[str] = []
    _family(
        lines,
        "toolsim_info",
        "gauge",
        "The toolsim server answering this scrape.",
        [({"version": toolsim.__version__, "mode": mode, "simulator": simulator}, 1)],
    )
    _family(
        lines,
        "toolsim_tool_calls_total",
        "counter",
        "Tool calls answered (requests), by outcome: hit, miss (simulated), error.",
        [
            ({"outcome": outcome}, counters.get(name, 0))
            for outcome, name in (("hit", HIT), ("miss", MISS), ("error", ERROR))
        ],
    )
    sources = {s.value for s in Source} | {
        name[len("source:") :] for name in counters if name.startswith("source:")
    }
    _family(
        lines,
        "toolsim_tool_replies_total",
        "counter",
        "Replies given (hits and misses), by who produced them.",
        [({"source": s}, counters.get(f"source:{s}", 0)) for s in sorted(sources)],
    )
    cumulative = 0
    buckets = []
    for bound in LATENCY_BUCKETS:
        cumulative += counters.get(_BUCKET + _label_float(bound), 0)
        buckets.append(({"le": _label_float(bound)}, cumulative))
    count = counters.get(_COUNT, 0)
    buckets.append(({"le": "+Inf"}, count))
    _family(
        lines,
        "toolsim_simulation_seconds",
        "histogram",
        "Time the simulator took per cache miss (single-flight: once per distinct call).",
        [],
    )
    lines += [_sample("toolsim_simulation_seconds_bucket", labels, v) for labels, v in buckets]
    lines.append(_sample("toolsim_simulation_seconds_sum", {}, counters.get(_SUM_US, 0) / 1e6))
    lines.append(_sample("toolsim_simulation_seconds_count", {}, count))
    _family(
        lines,
        "toolsim_request_timeouts_total",
        "counter",
        "Requests cut off by the per-request time limit (answered 504).",
        [({}, counters.get(_TIMEOUTS, 0))],
    )
    _family(
        lines, "toolsim_cache_entries", "gauge", "Replies stored in the cache.", [({}, entries)]
    )
    return "\n".join(lines) + "\n"


def _family(
    lines: list[str],
    name: str,
    kind: str,
    help_text: str,
    samples: Iterable[tuple[dict[str, str], float]],
) -> None:
    help_text = help_text.replace("\\", "\\\\").replace("\n", "\\n")
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} {kind}")
    lines.extend(_sample(name, labels, value) for labels, value in samples)


def _sample(name: str, labels: dict[str, str], value: float) -> str:
    if labels:
        inner = ",".join(f'{key}="{_escape(val)}"' for key, val in labels.items())
        name = f"{name}{{{inner}}}"
    return f"{name} {_value(value)}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _value(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _label_float(bound: float) -> str:
    return repr(float(bound))

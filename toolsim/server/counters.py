"""Moving this process's counters to the shared store, and reading them back, off the event loop.

Adding to the store's counters is a SQLite transaction or a Redis round trip
that grows with the number of APIs counted; run on the event loop, each flush
held up every request in flight for milliseconds. Here every store access runs
in a worker thread, while the event loop keeps answering.

Counts stay exact: reads and writes of the store take turns (one lock), so a
read never sees half of a flush, and this process's unflushed counts are added
to what was read before anything else can run. A write whose caller goes away
is still waited for before the next read or write, and counts whose write
failed are kept for the next flush.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from toolsim.cache.backend import CacheBackend
from toolsim.server.metrics import Measurements
from toolsim.server.stats import CallStats, named

T = TypeVar("T")


class SharedCounters:
    """Flushes and reads the counters of ``stats`` and ``metrics`` kept in ``backend``."""

    def __init__(self, stats: CallStats, metrics: Measurements, backend: CacheBackend) -> None:
        self.stats = stats
        self.metrics = metrics
        self.backend = backend
        self._lock: asyncio.Lock | None = None  # made on first use, inside the running loop

    def _turn(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def flush(self) -> None:
        """Add the counts not yet shared to the backend's counters (kept if that fails)."""
        async with self._turn():
            stats, measured = self.stats.take(), self.metrics.take()
            if not stats and not measured:
                return

            def write() -> None:
                # Naming the counts is per API too: it runs in the thread as well.
                self.backend.add_counters(named(stats) | dict(measured))

            def settle(done: asyncio.Future[None]) -> None:
                # Runs before the awaiting flush resumes, so before the lock is released.
                if done.cancelled() or done.exception() is not None:
                    self.stats.give_back(stats)
                    self.metrics.give_back(measured)

            await _in_thread(write, settle)

    def _read_store(self) -> tuple[dict[str, int], int]:
        return self.backend.counters(), len(self.backend)

    async def read(self) -> tuple[dict[str, int], int]:
        """The backend's counters and number of entries, read while no flush writes."""
        async with self._turn():
            return await _in_thread(self._read_store)

    async def stats_document(self) -> dict[str, Any]:
        """The ``/stats`` document, exact: shared counts plus this process's unflushed ones."""
        async with self._turn():
            shared, entries = await _in_thread(self._read_store)
            # On the loop, before anything else runs: the unflushed counts match the read.
            return self.stats.document(shared, entries)


async def _in_thread(
    work: Callable[[], T], settle: Callable[[asyncio.Future[T]], None] | None = None
) -> T:
    """Run ``work`` in a thread; if the caller is cancelled, still wait for it to finish.

    A thread cannot be stopped, so the caller keeps its turn until the work is
    done, and ``settle`` sees how it ended.
    """
    job = asyncio.ensure_future(asyncio.to_thread(work))
    if settle is not None:
        job.add_done_callback(settle)
    try:
        return await asyncio.shield(job)
    except asyncio.CancelledError:
        await asyncio.wait([job])
        raise

"""Single-flight: concurrent calls for the same key share one task and its outcome.

Used wherever two identical requests at once must get the same answer from one
piece of work: tool-call simulations (the server) and model requests (the
reply cache). The work runs as its own task, shielded from each waiter, so a
waiter that goes away does not cancel what the others wait for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """Runs at most one task per key at a time; every caller for that key awaits it."""

    def __init__(self) -> None:
        self._tasks: dict[Hashable, asyncio.Task[T]] = {}

    def busy(self, key: Hashable) -> bool:
        """Whether a task for ``key`` is in flight now."""
        return key in self._tasks

    def pending(self) -> list[asyncio.Task[T]]:
        """The tasks in flight now (to wait for them, e.g. at shutdown or in tests)."""
        return list(self._tasks.values())

    async def run(self, key: Hashable, work: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """The outcome of ``work()`` for ``key``, and whether this caller started it.

        A caller that finds the key in flight joins that task instead (and gets its
        exception, if it fails); the key is free again once the task ends.
        """
        task = self._tasks.get(key)
        started = task is None
        if task is None:
            task = asyncio.ensure_future(work())
            self._tasks[key] = task
            task.add_done_callback(lambda done: self._landed(key, done))
        return await asyncio.shield(task), started

    def _landed(self, key: Hashable, task: asyncio.Task[T]) -> None:
        self._tasks.pop(key, None)
        if not task.cancelled():
            task.exception()  # retrieved: every waiter may have gone

"""Holding a store's per-key lock from asyncio without ever blocking a thread on it.

A worker that waits for a lock another process holds tries again after a pause
(``asyncio.sleep``, growing to :data:`MAX_PAUSE`), each try one short round trip
on a small pool of threads of its own (so that dozens of waiters polling never
queue in front of the cache reads that hits and simulations make on the default
pool). Waiting in a thread instead (the lock's own blocking wait) held one
of the default pool's few threads per waiter for as long as the holder took,
while the holder needed that same pool to store its reply and let go: with two
replicas on one cache, dozens of distinct misses then stalled each other for
minutes. The holder renews a short lease while it works, so a holder that dies
(kill -9, a lost machine) frees the lock within one lease, not after the longest
a simulation may take.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from toolsim.cache.backend import SupportsLock

log = logging.getLogger("toolsim.cache")
T = TypeVar("T")

#: Seconds a lock outlives its holder's last renewal.
LEASE = 10.0
#: The first pause between tries, and the longest.
FIRST_PAUSE = 0.005
MAX_PAUSE = 0.2
#: Threads of the lock operations' own pool (each operation is one short round trip).
LOCK_THREADS = 2

_pool: ThreadPoolExecutor | None = None


async def _on_lock_threads(operation: Callable[..., T], *args: Any) -> T:
    """Run a lock operation on the locks' own threads."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(LOCK_THREADS, thread_name_prefix="toolsim-locks")
    return await asyncio.get_running_loop().run_in_executor(_pool, operation, *args)


@contextlib.asynccontextmanager
async def leased(
    store: SupportsLock, key: str, *, wait: float, lease: float = LEASE
) -> AsyncIterator[bool]:
    """Hold the lock on ``key`` while the block runs; yields whether it was acquired.

    Tries for at most ``wait`` seconds (then yields False: the caller goes on
    without the lock). While held, the lease is renewed every third of ``lease``.
    """
    token = uuid.uuid4().hex
    held = await _acquire(store, key, token, wait, lease)
    if not held:
        yield False
        return
    renewing = asyncio.create_task(_renew(store, key, token, lease))
    try:
        yield True
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
        await _on_lock_threads(store.unlock, key, token)


async def _acquire(store: SupportsLock, key: str, token: str, wait: float, lease: float) -> bool:
    deadline = time.monotonic() + wait
    pause = FIRST_PAUSE
    while not await _on_lock_threads(store.try_lock, key, token, lease):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        await asyncio.sleep(min(pause, left))  # another process holds it: try again later
        pause = min(pause * 2, MAX_PAUSE)
    return True


async def _renew(store: SupportsLock, key: str, token: str, lease: float) -> None:
    while True:
        await asyncio.sleep(lease / 3)
        try:
            kept = await _on_lock_threads(store.renew_lock, key, token, lease)
        except Exception as exc:  # the store is unreachable: the lease may run out
            log.warning("could not renew the lock on %s: %s", key, exc)
            continue
        if not kept:
            # Another worker took it after our lease ran out (this process stalled):
            # it may simulate the same call; both replies are valid, the last stored wins.
            log.warning("lost the lock on %s before finishing", key)
            return

"""Holding a shared per-key lock from asyncio: waits, leases, dead holders."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from toolsim.cache import CacheBackend, open_backend
from toolsim.cache.backend import SupportsLock
from toolsim.cache.leases import leased

KEY = "k" * 64


@pytest.fixture(params=["memory", "disk", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CacheBackend]:
    url = {"memory": "memory://", "disk": f"disk://{tmp_path / 'cache'}"}.get(request.param)
    backend = open_backend(url or request.getfixturevalue("redis_url"), tmp_path)
    assert isinstance(backend, SupportsLock)
    yield backend
    backend.close()


async def test_a_dead_holders_lock_is_taken_once_its_lease_runs_out(store) -> None:
    assert store.try_lock(KEY, "killed", 0.3)  # a worker that took it, then died
    started = time.monotonic()
    async with leased(store, KEY, wait=30) as held:
        assert held is True
        assert store.try_lock(KEY, "someone", 30) is False
    assert time.monotonic() - started < 5  # one lease, not the whole wait
    assert store.try_lock(KEY, "someone", 30) is True  # released on leaving


@pytest.mark.slow
async def test_a_live_holder_keeps_the_lock_past_its_lease(store) -> None:
    # A lease of 1 s renewed every third of it: even a loaded machine renews in time.
    async with leased(store, KEY, wait=1, lease=1.0) as held:
        assert held is True
        # Two leases long, the holder still holds it: its renewals keep it.
        for _ in range(10):
            await asyncio.sleep(0.2)  # the holder's work takes time
            assert store.try_lock(KEY, "waiter", 30) is False
    assert store.try_lock(KEY, "waiter", 30) is True


async def test_a_wait_that_runs_out_goes_on_without_the_lock(store) -> None:
    assert store.try_lock(KEY, "holder", 30)
    async with leased(store, KEY, wait=0.2) as held:
        assert held is False
    # Leaving without the lock releases nothing.
    assert store.try_lock(KEY, "other", 30) is False

"""Several workers on one shared cache (Redis, or a diskcache folder).

In-process: two ToolService instances, each on its own connection to the same
store, play two worker processes. Then ``toolsim serve --workers 2`` as real
processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import free_port, wait_for, worker_processes

from toolsim.cache import CacheBackend, open_backend
from toolsim.cache.disk import DiskBackend
from toolsim.cache.entry import Reply, Source
from toolsim.catalog import Catalog
from toolsim.server import ToolService
from toolsim.simulator.base import Simulation, SimulationRequest

FUNCTION = "current_weather_for_skycast_weather"


class GatedSimulator:
    """A slow fake simulator: counts calls and answers only once ``gate`` is set."""

    name = "gated"
    example_count = 0
    example_chars = 0

    def __init__(self, worker: int, gate: asyncio.Event, entered: asyncio.Event) -> None:
        self.worker = worker
        self.gate = gate
        self.entered = entered
        self.calls: list[SimulationRequest] = []
        self.failures: list[Exception] = []

    async def simulate(self, request: SimulationRequest) -> Simulation:
        self.calls.append(request)
        self.entered.set()
        await self.gate.wait()
        if self.failures:
            raise self.failures.pop(0)
        reply = Reply(response={"worker": self.worker, "arguments": request.arguments})
        return Simulation(reply=reply, source=Source.SIMULATED, simulator=self.name, model="fake")

    async def aclose(self) -> None:
        pass


class Watched:
    """A backend whose lock attempts are reported, so a test knows a worker is waiting."""

    def __init__(self, backend: CacheBackend, attempts: threading.Semaphore) -> None:
        self._backend = backend
        self._attempts = attempts

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    def __len__(self) -> int:
        return len(self._backend)

    @contextlib.contextmanager
    def lock(self, key: str, ttl: float, *, wait: float | None = None) -> Iterator[bool]:
        self._attempts.release()
        with self._backend.lock(key, ttl, wait=wait) as held:  # type: ignore[attr-defined]
            yield held


@pytest.fixture(params=["disk", "redis"])
def shared_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[CacheBackend]]:
    """Two connections to one store, as two worker processes would hold."""
    if request.param == "disk":
        stores: list[CacheBackend] = [DiskBackend(tmp_path / "cache") for _ in range(2)]
    else:
        url = request.getfixturevalue("redis_url")
        stores = [open_backend(url, tmp_path) for _ in range(2)]
    yield stores
    for store in stores:
        store.close()


@pytest.fixture
def workers(shared_stores: list[CacheBackend]):
    """Two "workers": ToolServices with their own gated simulators, on one store."""
    gate, entered, attempts = asyncio.Event(), asyncio.Event(), threading.Semaphore(0)
    catalog = Catalog.from_paths(["example"])
    simulators = [GatedSimulator(n, gate, entered) for n in range(2)]
    services = [
        ToolService(catalog, Watched(store, attempts), simulator, flight_lock_seconds=30)  # type: ignore[arg-type]
        for store, simulator in zip(shared_stores, simulators, strict=True)
    ]
    api = catalog.by_function(FUNCTION)

    async def both_miss(city: str) -> list[Any]:
        """Send one miss to both workers; open the gate once one simulates and one waits."""
        calls = asyncio.gather(
            *(service.call(api, {"city": city}) for service in services), return_exceptions=True
        )
        for _ in services:  # both have missed and reached the shared lock
            assert await asyncio.to_thread(attempts.acquire, timeout=30)
        await asyncio.wait_for(entered.wait(), 30)  # the holder simulates; the other waits
        gate.set()
        return await asyncio.wait_for(calls, 30)

    return services, simulators, both_miss


async def test_the_same_miss_on_two_workers_is_simulated_once(workers) -> None:
    services, simulators, both_miss = workers
    first, second = await both_miss("Lisbon")

    assert sum(len(simulator.calls) for simulator in simulators) == 1
    assert first.reply == second.reply
    assert first.key == second.key
    assert first.reply.response["arguments"] == {"city": "Lisbon"}
    assert len(services[0].backend) == 1
    # Both remember it now: a hit on either worker.
    for service in services:
        again = await service.call(services[0].catalog.by_function(FUNCTION), {"city": "Lisbon"})
        assert again.cached and again.reply == first.reply


async def test_a_failed_simulation_lets_the_waiting_worker_try(workers) -> None:
    services, simulators, both_miss = workers
    for simulator in simulators:
        simulator.failures.append(RuntimeError("boom"))
    results = await both_miss("Oslo")
    # The holder failed; the waiter then took the lock, found nothing stored, and
    # simulated itself (failing too, as scripted). Nothing is stored.
    assert [type(result).__name__ for result in results] == ["UpstreamError"] * 2
    assert all("boom" in str(result) for result in results)
    assert sum(len(simulator.calls) for simulator in simulators) == 2
    assert len(services[0].backend) == 0
    # The lock is free again: the next call simulates at once, and succeeds.
    recovered = await services[1].call(services[1].catalog.by_function(FUNCTION), {"city": "Oslo"})
    assert recovered.reply.error == "" and not recovered.cached


# toolsim serve --workers 2, as real processes.


@pytest.mark.slow
@pytest.mark.parametrize("store", ["disk", "redis"])
def test_serve_with_two_workers_shares_one_cache(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("TOOLSIM_")}
    env |= {
        "TOOLSIM_HOME": str(tmp_path),
        "TOOLSIM_SIMULATOR__BACKEND": "schema",
        "TOOLSIM_SERVER__STATS_FLUSH_SECONDS": "0.2",
    }
    if store == "redis":
        env["TOOLSIM_CACHE__URL"] = request.getfixturevalue("redis_url")
    command = [sys.executable, "-m", "toolsim", "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200

    try:
        wait_for(up, "the server answers /healthz")
        if Path("/proc").is_dir():
            wait_for(lambda: worker_processes(server.pid) == 2, "two worker processes")
        cities = [f"City {n}" for n in range(8)]
        # A fresh connection per call, so the kernel spreads them over both workers.
        misses = [
            httpx.post(
                f"{base}/virtual",
                json={
                    "category": "Weather",
                    "tool_name": "SkyCast Weather",
                    "api_name": "Current Weather",
                    "tool_input": {"city": city},
                },
                timeout=30,
            ).json()
            for city in cities
        ]
        assert all(reply["error"] == "" for reply in misses)
        hits = [
            httpx.post(f"{base}/v1/tools/{FUNCTION}", json={"city": city}, timeout=30)
            for city in cities
        ]
        # Stored by whichever worker simulated it, a hit on whichever answers now.
        assert {reply.headers["x-toolsim-cached"] for reply in hits} == {"true"}
        assert [reply.json() for reply in hits] == misses

        def totals() -> dict[str, Any] | None:
            stats = httpx.get(f"{base}/stats", timeout=10).json()
            done = stats["total"]["requests"] == 16 and stats["entries"] == 8
            return stats if done else None

        # Each worker flushes its counters to the shared store every 0.2 s.
        stats = wait_for(totals, "both workers' counters add up in /stats")
        assert (stats["total"]["hits"], stats["total"]["misses"]) == (8, 8)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output.decode()


def test_serve_refuses_what_workers_cannot_share(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from toolsim.cli import app

    runner = CliRunner()
    result = runner.invoke(
        app, ["serve", "--workers", "2", "--cache-url", "memory://", "--home", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "memory:// cannot be shared by several workers" in result.output
    unreachable = f"redis://127.0.0.1:{free_port()}/0"
    result = runner.invoke(app, ["serve", "--cache-url", unreachable, "--home", str(tmp_path)])
    assert result.exit_code == 1
    assert f"cannot reach Redis at {unreachable}" in result.output
    assert "Traceback" not in result.output

"""Load generators: ``wrk`` with a Lua script, or an async httpx client in its own process.

Both send ``POST /virtual`` bodies round-robin from a :class:`~_fixtures.BodySet`
over N keep-alive connections for a fixed time and report throughput and latency.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import multiprocessing
import re
import shutil
import statistics
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from _fixtures import BodySet

_HEADERS = {"content-type": "application/json"}


@dataclass(frozen=True)
class LoadResult:
    """One measurement: completed requests, throughput and latency percentiles."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-200 replies, timeouts and socket errors


def timing_arguments(parser: argparse.ArgumentParser, *, duration: float, rounds: int) -> None:
    """Add ``--duration`` (seconds per measurement) and ``--rounds`` (interleaved, medians)."""
    parser.add_argument("--duration", type=float, default=duration, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=rounds, help="interleaved rounds (median)")


class LoadGenerator(Protocol):
    """Sends the bodies of a set round-robin to ``POST /virtual`` and measures the replies."""

    name: str

    def run(self, url: str, bodies: BodySet, concurrency: int, duration: float) -> LoadResult:
        """Keep ``concurrency`` requests in flight for ``duration`` seconds."""
        ...

    def close(self) -> None:
        """Release what the generator holds."""
        ...


class WrkLoad:
    """Runs ``wrk -tT -cN -dS --latency`` (T threads, default 1) with a Lua script per body set."""

    name = "wrk"

    def __init__(self, executable: str, scratch: Path, threads: int = 1) -> None:
        self.executable = executable
        self.scratch = scratch
        self.threads = threads
        self._scripts: dict[str, Path] = {}

    def _script(self, bodies: BodySet) -> Path:
        if bodies.name not in self._scripts:
            lines = [f"  [==[{b.decode()}]==]," for b in bodies.bodies]
            path = self.scratch / f"bodies_{bodies.name}.lua"
            path.write_text(
                "local bodies = {\n" + "\n".join(lines) + "\n}\n"
                "local n, i = #bodies, 0\n"
                'wrk.method = "POST"\n'
                'wrk.headers["Content-Type"] = "application/json"\n'
                "request = function()\n"
                "  i = i % n + 1\n"
                '  return wrk.format(nil, "/virtual", nil, bodies[i])\n'
                "end\n"
            )
            self._scripts[bodies.name] = path
        return self._scripts[bodies.name]

    def run(self, url: str, bodies: BodySet, concurrency: int, duration: float) -> LoadResult:
        """Measure one server for ``duration`` seconds at ``concurrency`` connections."""
        command = [
            self.executable,
            f"-t{self.threads}",
            f"-c{concurrency}",
            f"-d{max(1, round(duration))}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(self._script(bodies)),
            url,
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=duration + 60, check=True
        )
        return parse_wrk(done.stdout)

    def close(self) -> None:
        """Nothing to release."""


_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS_MS[unit]


def parse_wrk(output: str) -> LoadResult:
    """Read requests, duration, Requests/sec, the 50%/99% lines and errors from wrk's output."""
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m),", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    if not (done and rps and p50 and p99):
        raise RuntimeError(f"cannot parse wrk output:\n{output}")
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    sockets = re.search(r"Socket errors: (.*)", output)
    if sockets:
        errors += sum(int(n) for n in re.findall(r"\d+", sockets.group(1)))
    return LoadResult(
        requests=int(done.group(1)),
        seconds=_ms(done.group(2) + done.group(3)) / 1e3,
        rps=float(rps.group(1)),
        p50_ms=_ms(p50.group(1)),
        p99_ms=_ms(p99.group(1)),
        errors=errors,
    )


class HttpxLoad:
    """An asyncio + httpx client with N concurrent workers, run in a separate process."""

    name = "httpx (async, separate process)"

    def __init__(self) -> None:
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))

    def run(self, url: str, bodies: BodySet, concurrency: int, duration: float) -> LoadResult:
        """Measure one server for ``duration`` seconds at ``concurrency`` connections."""
        job = self._pool.submit(_httpx_load, url, bodies.bodies, concurrency, duration)
        return job.result(timeout=duration + 60)

    def close(self) -> None:
        """Stop the client process."""
        self._pool.shutdown(cancel_futures=True)


def _httpx_load(url: str, bodies: tuple[bytes, ...], concurrency: int, duration: float):
    return asyncio.run(_httpx_main(url, bodies, concurrency, duration))


async def _httpx_main(
    url: str, bodies: tuple[bytes, ...], concurrency: int, duration: float
) -> LoadResult:
    import httpx

    latencies: list[float] = []
    errors = 0
    turn = itertools.count()

    async def worker(client: httpx.AsyncClient, deadline: float) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                reply = await client.post(
                    "/virtual", content=bodies[next(turn) % len(bodies)], headers=_HEADERS
                )
                ok = reply.status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append((time.perf_counter() - started) * 1e3)
            errors += not ok

    # One client (one connection) per worker, made before the clock starts (each
    # builds an SSL context): a shared pool is slower than the servers measured.
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=10))
            for _ in range(concurrency)
        ]
        started = time.perf_counter()
        await asyncio.gather(*(worker(client, started + duration) for client in clients))
        seconds = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return LoadResult(
        requests=len(latencies),
        seconds=seconds,
        rps=len(latencies) / seconds,
        p50_ms=cuts[49],
        p99_ms=cuts[98],
        errors=errors,
    )


def load_generator(choice: str, scratch: Path) -> LoadGenerator:
    """``wrk`` when asked for or found on PATH (``choice`` auto), else the httpx client."""
    executable = shutil.which("wrk")
    if choice == "wrk" and executable is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    if choice != "httpx" and executable is not None:
        return WrkLoad(executable, scratch)
    return HttpxLoad()

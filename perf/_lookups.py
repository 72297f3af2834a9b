"""In-process lookup latency of ``DiskBackend.get`` in a small and a large store."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory

from _fixtures import build_lookup_cache, entry_n
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from toolsim.cache.disk import DiskBackend
from toolsim.catalog import Catalog


@contextmanager
def progress_bar(console: Console, total: int, label: str) -> Iterator:
    """A rich bar; when output is not a terminal, a line every 10% instead."""
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task(label, total=total)
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            bar.advance(task, n)
            if not console.is_terminal and (done + n) * 10 // total > done * 10 // total:
                console.print(f"  {label}: {done + n:,}/{total:,}")
            done += n

        yield advance


def _time_gets(backend: DiskBackend, keys: list[str]) -> list[tuple[float, float]]:
    """(wall, CPU) microseconds per lookup: CPU time leaves out waits for other processes."""
    micros = []
    for key in keys:
        wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
        found = backend.get(key)
        micros.append(((time.perf_counter_ns() - wall) / 1e3, (time.thread_time_ns() - cpu) / 1e3))
        if found is None:
            raise RuntimeError(f"stored key {key} not found")
    return micros


def measure_lookups(
    console: Console, catalog: Catalog, big: int, lookups: int = 20_000, seed: int = 7
) -> dict:
    """Median and p99 of ``DiskBackend.get`` for random stored keys, 1,000 vs ``big`` entries."""
    apis = list(catalog)
    rng = random.Random(seed)
    sizes = (1000, big)
    with TemporaryDirectory(prefix="toolsim-lookup-") as scratch, ExitStack() as stack:
        backends, keys, build_seconds = {}, {}, {}
        for total in sizes:
            started = time.monotonic()
            with progress_bar(console, total, f"writing {total:,} entries") as advance:
                backend = build_lookup_cache(
                    Path(scratch) / str(total), apis, total, min(10_000, total), advance
                )
            stack.callback(backend.close)
            build_seconds[total] = time.monotonic() - started
            backends[total] = backend
            picks = rng.choices(range(total), k=lookups)
            keys[total] = [entry_n(apis, total, n)[0] for n in picks]
        console.print(f"timing {lookups:,} lookups per backend, interleaved in 4 slices")
        micros: dict[int, list[tuple[float, float]]] = {total: [] for total in sizes}
        for total in sizes:
            _time_gets(backends[total], keys[total][:1000])  # warm-up, not counted
        slice_ = lookups // 4
        for part in range(4):
            for total in sizes:
                chunk = keys[total][part * slice_ : (part + 1) * slice_]
                micros[total] += _time_gets(backends[total], chunk)
    rows = {}
    for total in sizes:
        wall, cpu = zip(*micros[total], strict=True)
        rows[total] = {
            "median_us": statistics.median(wall),
            "p99_us": statistics.quantiles(wall, n=100)[98],
            "cpu_median_us": statistics.median(cpu),
            "cpu_p99_us": statistics.quantiles(cpu, n=100)[98],
            "build_seconds": build_seconds[total],
        }
    ratios = {name: rows[big][name] / rows[1000][name] for name in rows[big]}
    return {"lookups": lookups, "rows": rows, "ratios": ratios, "quick": big != 1_000_000}

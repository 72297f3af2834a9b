"""Cache-hit throughput of ``toolsim serve --workers N`` on diskcache and on Redis.

For N = 1, 2 and 4 workers on each backend, in one run: fills a diskcache (in a
temporary TOOLSIM_HOME) and a throwaway ``redis-server`` (started here on a free
loopback port, no persistence) with the same ~2,000 entries of the example
suite, then starts each configuration as a real ``toolsim serve`` process, one
at a time, and drives it with ``wrk -t2 -c64`` rotating 200 distinct cached
calls. Every configuration is measured ``--rounds`` times (interleaved); the
medians are reported, with the scaling ratio of each against 1 worker.

Each server runs with ``TOOLSIM_SIMULATOR__BACKEND=schema`` (a miss would never need a
model) and, unless ``--memory-entries`` says otherwise, with its in-process
reply memory off, so that every hit reads the backend being measured (with it
on, a worker reads the backend only on its first hit of a call). The shared
counters of ``/stats`` (``total``) confirm that every request was a hit: misses
and errors 0, hits at least the requests wrk counted.

How to read it: wrk shares the machine's cores with the server, so on a 2-core
machine more than 2 workers cannot scale further (4 workers mostly measure
contention); absolute numbers are a lower bound, compare ratios.

Usage: python perf/load.py [--duration 5] [--rounds 1] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx
from _fixtures import BodySet, body, entry
from _load import LoadResult, WrkLoad, timing_arguments
from _servers import HOST, Server, all_hits, free_port, start_command, wait_ready
from rich.console import Console
from rich.table import Table

from toolsim.cache.backend import CacheBackend
from toolsim.cache.disk import DiskBackend
from toolsim.catalog import Catalog

WORKERS = (1, 2, 4)
CONCURRENCY = 64
WRK_THREADS = 2
BODIES = 200
REDIS_PREFIX = "bench"
#: Seconds between counter flushes in the servers; /stats is read after 3 of them.
FLUSH_SECONDS = 0.5
TOOLSIM = str(Path(sys.executable).with_name("toolsim"))


@dataclass
class Run:
    """One measurement of one configuration, with what /stats counted meanwhile."""

    backend: str
    workers: int
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    wrk_errors: int
    hits: int
    misses: int
    errors: int

    @property
    def ok(self) -> bool:
        """No misses or errors; hits = requests, plus at most the ones in flight at the end."""
        return self.wrk_errors == 0 and all_hits(
            requests=self.requests,
            hits=self.hits,
            misses=self.misses,
            errors=self.errors,
            concurrency=CONCURRENCY,
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    timing_arguments(parser, duration=5, rounds=1)
    parser.add_argument("--entries", type=int, default=2000, help="cached entries")
    parser.add_argument(
        "--memory-entries",
        type=int,
        default=0,
        help="TOOLSIM_SERVER__MEMORY_ENTRIES of the servers (0, the default: every hit reads the "
        "backend)",
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    return parser.parse_args()


# --- Fixtures -------------------------------------------------------------------------------------


def fill(backend: CacheBackend, catalog: Catalog, total: int) -> BodySet:
    """Store ``total`` entries spread over every API; return bodies of 200 of them."""
    apis = list(catalog)
    per_api = -(-total // len(apis))
    plan = [(apis[n // per_api], n % per_api) for n in range(total)]
    for start in range(0, total, 500):
        backend.put_many(entry(api, i) for api, i in plan[start : start + 500])
    assert len(backend) == total, (len(backend), total)
    step = max(1, total // BODIES)
    return BodySet("cached", tuple(body(api, i) for api, i in plan[::step][:BODIES]))


def start_redis(scratch: Path, logs: Path) -> Server:
    """A throwaway ``redis-server`` on a free loopback port, without persistence."""
    port = free_port()
    command = [
        shutil.which("redis-server") or "redis-server",
        "--bind",
        HOST,
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(scratch),
    ]
    server = start_command("redis-server", command, port, logs, group=True)
    server.url = f"redis://{HOST}:{port}/0?prefix={REDIS_PREFIX}"
    return server


def wait_redis(server: Server, timeout: float = 20) -> None:
    """Poll PING until the server answers; raise if it exits or the deadline passes."""
    import redis

    client = redis.Redis.from_url(server.url.split("?")[0], socket_connect_timeout=1)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"redis-server exited:\n{server.log.read_text()}")
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.1)
    finally:
        client.close()
    raise RuntimeError(f"redis-server not ready after {timeout:.0f} s:\n{server.log.read_text()}")


# --- Measurements ---------------------------------------------------------------------------------


def start_toolsim(backend: str, workers: int, env: dict[str, str], logs: Path) -> Server:
    port = free_port()
    command = [TOOLSIM, "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    return start_command(f"toolsim {backend} w{workers}", command, port, logs, env, group=True)


def totals(server: Server) -> dict[str, int]:
    """The shared counters (every worker's, once flushed) from /stats."""
    counts = httpx.get(f"{server.url}/stats", timeout=10).raise_for_status().json()["total"]
    return {name: counts[name] for name in ("hits", "misses", "errors")}


def measure(
    console: Console,
    wrk: WrkLoad,
    bodies: BodySet,
    backend: str,
    workers: int,
    env: dict[str, str],
    logs: Path,
    duration: float,
) -> tuple[Run, list[str]]:
    """Start one configuration, warm it up, measure it, check /stats; stop it."""
    server = start_toolsim(backend, workers, env, logs)
    try:
        wait_ready(server, lambda client: client.get("/healthz"), timeout=60)
        wrk.run(server.url, bodies, CONCURRENCY, 1)  # warm-up: every worker up and connected
        time.sleep(3 * FLUSH_SECONDS)
        before = totals(server)
        result: LoadResult = wrk.run(server.url, bodies, CONCURRENCY, duration)
        time.sleep(3 * FLUSH_SECONDS)
        after = totals(server)
    finally:
        server.stop()
    delta = {name: after[name] - before[name] for name in after}
    run = Run(
        backend,
        workers,
        result.requests,
        result.rps,
        result.p50_ms,
        result.p99_ms,
        result.errors,
        **delta,
    )
    flag = "" if run.ok else "  [red]/stats check FAILED[/red]"
    console.print(
        f"  {backend:<9} workers={workers}  {run.rps:9,.0f} req/s  p50 {run.p50_ms:7.2f} ms  "
        f"p99 {run.p99_ms:7.2f} ms  hits {run.hits:,} misses {run.misses}{flag}"
    )
    # The startup banner is expected; anything else (warnings, tracebacks) is worth reading.
    banner = ("toolsim:", "listening on", f"{workers} worker processes")
    return run, [line for line in server.log_lines() if not line.startswith(banner)]


def summarize(runs: list[Run], backends: list[str]) -> dict[str, dict[str, dict]]:
    """Medians per (backend, workers) and req/s relative to 1 worker on the same backend."""
    table: dict[str, dict[str, dict]] = {}
    for backend in backends:
        rows: dict[str, dict] = {}
        for workers in WORKERS:
            mine = [r for r in runs if r.backend == backend and r.workers == workers]
            rows[str(workers)] = {
                "rps": statistics.median(r.rps for r in mine),
                "p50_ms": statistics.median(r.p50_ms for r in mine),
                "p99_ms": statistics.median(r.p99_ms for r in mine),
                "requests": sum(r.requests for r in mine),
                "hits": sum(r.hits for r in mine),
                "misses": sum(r.misses for r in mine),
                "errors": sum(r.errors + r.wrk_errors for r in mine),
                "ok": all(r.ok for r in mine),
            }
        for row in rows.values():
            row["vs_1_worker"] = row["rps"] / rows["1"]["rps"]
        table[backend] = rows
    return table


# --- Output ---------------------------------------------------------------------------------------


def caption(setup: dict) -> str:
    return (
        f"Cache hits, `POST /virtual`, `toolsim serve --workers N`, loopback, {setup['cpus']} CPUs "
        f"shared with wrk (-t{WRK_THREADS} -c{CONCURRENCY}); median of {setup['rounds']} "
        f"round(s) x {setup['duration']:g} s; {BODIES} distinct cached calls rotated out of "
        f"{setup['entries']:,} entries; reply memory "
        f"{'off' if not setup['memory_entries'] else setup['memory_entries']}."
    )


def cpu_note(setup: dict) -> str:
    return (
        f"On a {setup['cpus']}-core machine shared with wrk, more than {setup['cpus']} workers "
        "cannot scale further: extra workers only compete for the same cores."
    )


def print_table(console: Console, results: dict) -> None:
    setup = results["setup"]
    table = Table(title=caption(setup).replace("`", ""))
    for column in ("backend", "workers", "req/s", "p50 ms", "p99 ms", "vs 1 worker", "/stats"):
        table.add_column(column, justify="left" if column == "backend" else "right")
    for backend, rows in results["medians"].items():
        for workers, row in rows.items():
            verdict = "[green]OK[/green]" if row["ok"] else "[red]FAILED[/red]"
            table.add_row(
                backend,
                workers,
                f"{row['rps']:,.0f}",
                f"{row['p50_ms']:.2f}",
                f"{row['p99_ms']:.2f}",
                f"{row['vs_1_worker']:.2f}x",
                verdict,
            )
        table.add_section()
    console.print(table)
    console.print(f"[yellow]{cpu_note(setup)}[/yellow]")
    for backend, rows in results["medians"].items():
        requests = sum(r["requests"] for r in rows.values())
        hits = sum(r["hits"] for r in rows.values())
        misses = sum(r["misses"] for r in rows.values())
        errors = sum(r["errors"] for r in rows.values())
        ok = all(r["ok"] for r in rows.values())
        console.print(
            f"/stats check {backend}: {requests:,} requests counted by wrk, {hits:,} hits, "
            f"{misses} misses, {errors} errors: {'[green]OK' if ok else '[red]FAILED'}[/]"
        )
    if setup.get("skipped"):
        console.print(f"[yellow]{setup['skipped']}[/yellow]")


def markdown(results: dict) -> str:
    setup = results["setup"]
    lines = [
        caption(setup),
        "",
        "| backend | workers | req/s | p50 ms | p99 ms | req/s vs 1 worker |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for backend, rows in results["medians"].items():
        for workers, row in rows.items():
            lines.append(
                f"| {backend} | {workers} | {row['rps']:,.0f} | {row['p50_ms']:.2f} | "
                f"{row['p99_ms']:.2f} | {row['vs_1_worker']:.2f} |"
            )
    lines += ["", cpu_note(setup)]
    if setup.get("skipped"):
        lines.append(f"({setup['skipped']})")
    return "\n".join(lines)


# --- Main -----------------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    console = Console(width=None if sys.stdout.isatty() else 120)
    started = time.monotonic()
    executable = shutil.which("wrk")
    if executable is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    catalog = Catalog.from_paths(["example"])
    runs: list[Run] = []
    server_logs: dict[str, list[str]] = {}
    skipped = ""
    with ExitStack() as stack:  # closes backends, stops processes, removes the temp dir
        scratch = Path(stack.enter_context(TemporaryDirectory(prefix="toolsim-load-")))
        home, logs = scratch / "home", scratch / "logs"
        logs.mkdir()
        disk = DiskBackend(home / "cache")
        try:
            bodies = fill(disk, catalog, args.entries)
        finally:
            disk.close()
        common = {
            "TOOLSIM_HOME": str(home),
            "TOOLSIM_SIMULATOR__BACKEND": "schema",
            "TOOLSIM_SERVER__MEMORY_ENTRIES": str(args.memory_entries),
            "TOOLSIM_SERVER__STATS_FLUSH_SECONDS": str(FLUSH_SECONDS),
            "COLUMNS": "400",  # one banner line each, not wrapped
        }
        envs = {"diskcache": common}
        console.print(f"diskcache: {args.entries:,} entries over {len(catalog)} APIs")
        if shutil.which("redis-server") is None:
            skipped = "redis-server not found (apt-get install -y redis-server): Redis skipped"
            console.print(f"[yellow]{skipped}[/yellow]")
        else:
            from toolsim.cache.redis import open_redis

            redis_server = start_redis(scratch, logs)
            stack.callback(redis_server.stop)
            wait_redis(redis_server)
            backend = open_redis(redis_server.url)
            try:
                fill(backend, catalog, args.entries)
            finally:
                backend.close()
            envs["redis"] = common | {"TOOLSIM_CACHE__URL": redis_server.url}
            console.print(f"redis: {args.entries:,} entries at {redis_server.url}")
        wrk = WrkLoad(executable, scratch, threads=WRK_THREADS)
        configs = [(backend, workers) for backend in envs for workers in WORKERS]
        for r in range(args.rounds):
            console.print(f"[bold]round {r + 1}/{args.rounds}[/bold]")
            shift = r % len(configs)  # no configuration always goes first
            for backend, workers in configs[shift:] + configs[:shift]:
                run, lines = measure(
                    console, wrk, bodies, backend, workers, envs[backend], logs, args.duration
                )
                runs.append(run)
                if lines:
                    server_logs[f"{backend} w{workers}"] = lines
    results = {
        "medians": summarize(runs, list(envs)),
        "runs": [asdict(r) for r in runs],
        "setup": {
            "generator": f"wrk -t{WRK_THREADS} -c{CONCURRENCY}",
            "duration": args.duration,
            "rounds": args.rounds,
            "entries": args.entries,
            "memory_entries": args.memory_entries,
            "cpus": len(os.sched_getaffinity(0)),
            "skipped": skipped,
            "seconds": time.monotonic() - started,
        },
        "server_logs": server_logs,
    }
    print_table(console, results)
    for label, lines in server_logs.items():
        console.print(f"[yellow]{label} logged {len(lines)} lines; last: {lines[-1]}[/yellow]")
    console.print(f"total time {results['setup']['seconds']:.0f} s\n")
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
        console.print(f"\nresults written to {args.json}")
    if not all(r.ok for r in runs):
        raise SystemExit(1)


if __name__ == "__main__":
    try:
        main()
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"{exc.cmd[0]} failed:\n{exc.stdout}\n{exc.stderr}") from None

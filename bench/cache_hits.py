"""How fast toolsim answers cache hits, against the floors of the stack it runs on.

Measures, on one machine over loopback:

1. ``POST /virtual`` throughput (req/s) and latency (p50/p99) at several client
   concurrencies for four uvicorn servers (one worker each): a raw ASGI app that
   returns fixed bytes, a bare FastAPI route that parses the same body into a
   pydantic model, toolsim on a pre-filled diskcache (every request a hit, rotating
   through 200 different cached calls), and toolsim with its in-process reply
   memory disabled (``TOOLSIM_MEMORY_ENTRIES=0``: every hit reads diskcache).
   Servers are measured interleaved, in rounds; the medians are reported.
2. Hits on an API holding 10 entries vs one holding 10,000 (concurrency 16).
3. In-process ``DiskBackend.get`` latency with 1,000 vs 1,000,000 stored entries
   (100,000 with ``--quick``), in wall-clock and in CPU time.

How to read it: raw ASGI is the ceiling no Python app under uvicorn can pass and
bare FastAPI is what a plain route would give; ``toolsim/raw`` near 1 means the
cache adds little. The small/large ratio and the lookup ratio should be near 1:
a hit must not get slower as the cache grows. CPU time leaves out the time the
process waited for a core, which dominates wall-clock p99 on a busy machine.
The /stats check confirms that every toolsim request was a hit (misses and
errors 0); hits may exceed the requests wrk counted by at most the concurrency
(requests in flight when wrk stops). The load generator shares the machine's
cores with the server, so absolute numbers are a lower bound; compare ratios.

Usage: python bench/cache_hits.py [--duration 5] [--concurrency 1,16,64] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx
from _fixtures import BodySet, body_sets, build_server_cache
from _load import LoadGenerator, LoadResult, load_generator
from _lookups import measure_lookups
from _report import markdown, print_tables
from _servers import Server, all_hits, start, wait_ready
from rich.console import Console

from toolsim.catalog import Catalog

#: (key, label, app in _apps.py, extra environment).
SERVERS = [
    ("raw", "raw ASGI", "raw_app", {}),
    ("fastapi", "bare FastAPI", "fastapi_app", {}),
    ("toolsim", "toolsim", "toolsim_app", {}),
    ("toolsim_nomem", "toolsim (memory off)", "toolsim_app", {"TOOLSIM_MEMORY_ENTRIES": "0"}),
]
TOOLSIM = ("toolsim", "toolsim_nomem")
SMALL_LARGE_CONCURRENCY = 16
JSON = {"content-type": "application/json"}


@dataclass
class StatsCheck:
    """What toolsim's /stats counted during one measurement, against what the client counted."""

    server: str
    bodies: str
    concurrency: int
    requests: int
    hits: int
    misses: int
    errors: int

    @property
    def ok(self) -> bool:
        """No misses or errors; hits = requests, plus at most the ones in flight at the end."""
        return all_hits(
            requests=self.requests,
            hits=self.hits,
            misses=self.misses,
            errors=self.errors,
            concurrency=self.concurrency,
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5, help="seconds per measurement")
    parser.add_argument("--concurrency", default="1,16,64", help="comma-separated connections")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3; 1 with --quick)")
    parser.add_argument(
        "--entries", type=int, default=3000, help="entries for the APIs other than small and large"
    )
    parser.add_argument(
        "--quick", action="store_true", help="100,000 entries (not 1M) for lookups; 1 round"
    )
    parser.add_argument("--generator", choices=["auto", "wrk", "httpx"], default="auto")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.lookup_entries = 100_000 if args.quick else 1_000_000
    return args


# --- HTTP measurements ----------------------------------------------------------------------------


def _stats(server: Server) -> dict[str, int]:
    counts = httpx.get(f"{server.url}/stats", timeout=10).raise_for_status().json()["since_start"]
    return {name: counts[name] for name in ("hits", "misses", "errors")}


class HttpBench:
    """Runs the load generator against the servers and keeps every result and /stats check."""

    def __init__(
        self,
        console: Console,
        generator: LoadGenerator,
        servers: dict[str, Server],
        duration: float,
    ) -> None:
        self.console = console
        self.generator = generator
        self.servers = servers
        self.duration = duration
        self.results: dict[tuple[str, str, int], list[LoadResult]] = {}
        self.checks: list[StatsCheck] = []

    def measure(
        self, key: str, bodies: BodySet, concurrency: int, *, duration: float | None = None
    ) -> LoadResult:
        server = self.servers[key]
        before = _stats(server) if key in TOOLSIM else None
        result = self.generator.run(server.url, bodies, concurrency, duration or self.duration)
        if before is not None:
            after = _stats(server)
            delta = {name: after[name] - before[name] for name in after}
            self.checks.append(StatsCheck(key, bodies.name, concurrency, result.requests, **delta))
        return result

    def record(self, key: str, bodies: BodySet, concurrency: int, note: str) -> None:
        result = self.measure(key, bodies, concurrency)
        self.results.setdefault((key, bodies.name, concurrency), []).append(result)
        errors = f"  [red]{result.errors} errors[/red]" if result.errors else ""
        self.console.print(
            f"  {note} c={concurrency:<3} {self.servers[key].label:<21} {bodies.name:<5} "
            f"{result.rps:9.0f} req/s  p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms"
            f"{errors}"
        )

    def run(self, bodies: dict[str, BodySet], concurrencies: list[int], rounds: int) -> None:
        """Warm every server up, then measure in interleaved rounds."""
        self.console.print("warming up (1 s per server and body set)")
        for key in self.servers:
            for body_set in bodies.values():
                self.measure(key, body_set, SMALL_LARGE_CONCURRENCY, duration=1)
        keys = list(self.servers)
        for r in range(rounds):
            self.console.print(f"[bold]round {r + 1}/{rounds}[/bold]")
            order = keys[r % len(keys) :] + keys[: r % len(keys)]  # no server always goes first
            for concurrency in concurrencies:
                for key in order:
                    self.record(key, bodies["large"], concurrency, "")
            sizes = ["small", "large"] if r % 2 == 0 else ["large", "small"]
            for key in TOOLSIM:
                for size in sizes:
                    self.record(key, bodies[size], SMALL_LARGE_CONCURRENCY, "small/large")

    def median(self, key: str, bodies: str, concurrency: int) -> dict[str, float]:
        runs = self.results[(key, bodies, concurrency)]
        return {
            "rps": statistics.median(r.rps for r in runs),
            "p50_ms": statistics.median(r.p50_ms for r in runs),
            "p99_ms": statistics.median(r.p99_ms for r in runs),
            "errors": sum(r.errors for r in runs),
            "rounds": len(runs),
        }


def start_servers(stack: ExitStack, home: Path, logs: Path, probe_body: bytes) -> dict[str, Server]:
    """Start every server at once, then wait for each to answer."""
    servers = {}
    for key, label, app, env in SERVERS:
        extra = {"TOOLSIM_HOME": str(home), **env} if app == "toolsim_app" else env
        servers[key] = start(label, app, logs, extra)
        stack.callback(servers[key].stop)
    for key, server in servers.items():
        if key in TOOLSIM:
            wait_ready(server, lambda client: client.get("/healthz"), timeout=60)
        else:
            wait_ready(
                server,
                lambda client: client.post("/virtual", content=probe_body, headers=JSON),
                timeout=60,
            )
    return servers


# --- Summary --------------------------------------------------------------------------------------


def summarize(bench: HttpBench, concurrencies: list[int]) -> dict:
    """Medians per (server, concurrency), the ratios, small vs large, and the /stats checks."""
    http: dict[str, dict] = {}
    for c in concurrencies:
        medians = {key: bench.median(key, "large", c) for key, *_ in SERVERS}
        for key in medians:
            medians[key]["rps_vs_raw"] = medians[key]["rps"] / medians["raw"]["rps"]
            medians[key]["p99_vs_fastapi"] = medians[key]["p99_ms"] / medians["fastapi"]["p99_ms"]
        http[str(c)] = medians
    small_large = {}
    for key in TOOLSIM:
        small = bench.median(key, "small", SMALL_LARGE_CONCURRENCY)
        large = bench.median(key, "large", SMALL_LARGE_CONCURRENCY)
        small_large[key] = {
            "small": small,
            "large": large,
            "rps_large_vs_small": large["rps"] / small["rps"],
        }
    checks = {}
    for key in TOOLSIM:
        mine = [c for c in bench.checks if c.server == key]
        checks[key] = {
            "measurements": len(mine),
            "requests": sum(c.requests for c in mine),
            "hits": sum(c.hits for c in mine),
            "misses": sum(c.misses for c in mine),
            "errors": sum(c.errors for c in mine),
            "ok": all(c.ok for c in mine),
            "failed": [asdict(c) for c in mine if not c.ok],
        }
    return {"http": http, "small_vs_large": small_large, "stats_check": checks}


# --- Main -----------------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    console = Console(width=None if sys.stdout.isatty() else 120)
    started = time.monotonic()
    catalog = Catalog.from_paths(["example"])
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(TemporaryDirectory(prefix="toolsim-bench-")))
        home, logs = scratch / "home", scratch / "logs"
        logs.mkdir()
        per_api = build_server_cache(home / "cache", catalog, args.entries)
        console.print(f"cache: {sum(per_api.values()):,} entries over {len(per_api)} APIs")
        bodies = body_sets(catalog)
        generator = load_generator(args.generator, scratch)
        stack.callback(generator.close)
        console.print(f"load generator: [bold]{generator.name}[/bold]")
        if generator.name != "wrk":
            console.print("[yellow]a Python client saturates first: ratios are compressed[/yellow]")
        servers = start_servers(stack, home, logs, bodies["large"].bodies[0])
        bench = HttpBench(console, generator, servers, args.duration)
        bench.run(bodies, args.concurrency, args.rounds)
        results = summarize(bench, args.concurrency)
        for server in servers.values():
            server.stop()  # now, so that shutdown problems are logged and lookups run alone
        server_logs = {s.label: s.log_lines() for s in servers.values()}
    results["lookup"] = measure_lookups(console, catalog, args.lookup_entries)
    results["setup"] = {
        "generator": generator.name,
        "duration": args.duration,
        "rounds": args.rounds,
        "concurrency": args.concurrency,
        "cpus": len(os.sched_getaffinity(0)),
        "cache_entries": per_api,
        "lookup_entries": args.lookup_entries,
        "small_large_concurrency": SMALL_LARGE_CONCURRENCY,
        "seconds": time.monotonic() - started,
    }
    results["labels"] = {key: label for key, label, _, _ in SERVERS}
    results["server_logs"] = server_logs
    print_tables(console, results)
    for label, lines in server_logs.items():
        if lines:
            console.print(f"[yellow]{label} logged {len(lines)} lines; first: {lines[0]}[/yellow]")
    console.print(f"total time {results['setup']['seconds']:.0f} s\n")
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
        console.print(f"\nresults written to {args.json}")


if __name__ == "__main__":
    main()

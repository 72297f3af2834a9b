"""How fast toolsim answers cache hits, against the floors of the stack it runs on.

The setup of issue 16, in one run on one machine over loopback:

* the catalog: the 2,231 APIs of StableToolBench's test queries (four groups, read
  from ``../shared/data``; the bundled example suite when that is absent);
* caches in StableToolBench's own layout (``<Category>/<tool>_for_<Category>/<api>.json``,
  keys the ``repr`` of the arguments), written here and imported with
  ``import_reference`` (what ``toolsim cache import`` runs), one per size: 10 and
  40 entries for every API, and 10,000 entries for each of ``--large-apis`` APIs
  (every API at 10,000 would be 22 million entries); ``--reference-cache`` imports
  a real one instead;
* ``POST /virtual`` bodies built as the reference client builds them, spread over
  every API of the cache (``--bodies`` distinct calls, rotated);
* servers under the same uvicorn (with 1, then 2 workers): a raw ASGI app that
  returns fixed bytes, a bare FastAPI route that parses the same body into a
  pydantic model, and toolsim (``toolsim.server.app:app_from_env``, as ``toolsim
  serve`` runs it, in replay mode) on each cache, with its reply memory on (the
  default) and off (``TOOLSIM_SERVER__MEMORY_ENTRIES=0``: every hit reads the store),
  and with ``--before-src DIR`` also from an earlier source tree, as a baseline;
* ``wrk -t1 -c64`` (``--concurrency``), every server measured once per round, in
  interleaved rounds; medians are reported, with the server's CPU time per request
  (all its processes, from ``/proc``), which other load on the machine barely changes.

How to read it: raw ASGI is the ceiling no Python app under uvicorn can pass and
bare FastAPI is what a plain route gives. The issue asks toolsim for at least 0.70
of raw ASGI's throughput, a p99 at most 1.5x bare FastAPI's, and the same
throughput (within 1.2x) at 10 and 10,000 entries per API; the verdicts are
printed per worker count. After every toolsim measurement ``/stats`` (shared
totals, after the workers' flushes) must show one hit per request wrk counted
(plus at most those in flight when it stopped), and no miss or error.

The load generator shares the machine's cores with the servers, so absolute
numbers are a lower bound and other load shows in the tails: compare ratios,
and note the load average printed with the results. On a busy machine, the CPU
share (raw ASGI's CPU per request over the server's) is the steadier figure. Last, in-process
``DiskBackend.get`` latency with 1,000 vs 1,000,000 stored entries
(``--lookup-entries``; 0 skips it).

Usage: python perf/cache_hits.py [--duration 8] [--rounds 3] [--workers 1,2] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx
from _fixtures import BodySet
from _load import LoadGenerator, LoadResult, load_generator
from _lookups import measure_lookups, progress_bar
from _reference_cache import catalog_sources, spread_bodies, write_reference_cache
from _report import markdown, print_tables
from _servers import HOST, PERF_DIR, Server, all_hits, free_port, start_command, wait_ready
from rich.console import Console

from toolsim.cache.disk import DiskBackend
from toolsim.cache.reference_format import count_reference_files, import_reference
from toolsim.catalog import Catalog
from toolsim.settings import legacy_environment_variables

BASELINES = {"raw": ("raw ASGI", "raw_app"), "fastapi": ("bare FastAPI", "fastapi_app")}
#: Seconds between counter flushes in the toolsim servers; /stats is read after two of them.
FLUSH_SECONDS = 1.0
JSON = {"content-type": "application/json"}
#: Seconds of load before a server's first measurement.
WARM_UP = 3


@dataclass(frozen=True)
class Cache:
    """One imported cache and the bodies that hit it."""

    name: str  # "10", "40", "10000" entries per API, or "reference"
    home: Path
    apis: int
    entries: int
    bodies: BodySet


@dataclass
class StatsCheck:
    """What toolsim's /stats counted during one measurement, against what wrk counted."""

    server: str
    workers: int
    requests: int
    hits: int
    misses: int
    errors: int
    concurrency: int

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
    parser.add_argument("--duration", type=float, default=8, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3; 1 with --quick)")
    parser.add_argument("--concurrency", type=int, default=64, help="wrk connections")
    parser.add_argument("--workers", default="1,2", help="comma-separated uvicorn worker counts")
    parser.add_argument(
        "--per-api", default="10,40,10000", help="comma-separated cache sizes, entries per API"
    )
    parser.add_argument(
        "--large-apis",
        type=int,
        default=20,
        help="APIs in caches of more than 1,000 entries per API (default 20)",
    )
    parser.add_argument("--bodies", type=int, default=4000, help="distinct calls rotated")
    parser.add_argument(
        "--memory-off",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure toolsim with its reply memory off (every hit reads the store)",
    )
    parser.add_argument(
        "--before-src",
        type=Path,
        help="also serve toolsim from this source tree on every cache (e.g. `git archive "
        "<commit> | tar -x -C DIR` of a commit before issue 16)",
    )
    parser.add_argument(
        "--reference-cache",
        type=Path,
        help="a real StableToolBench tool_response_cache folder to import and hit instead",
    )
    parser.add_argument(
        "--tools",
        help="comma-separated catalog sources (default: the StableToolBench query files)",
    )
    parser.add_argument("--lookup-entries", type=int, help="large store of the lookup test")
    parser.add_argument("--quick", action="store_true", help="1 round, 4 s, lookups of 100,000")
    parser.add_argument("--generator", choices=["auto", "wrk", "httpx"], default="auto")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    args.workers = [int(w) for w in args.workers.split(",")]
    args.per_api = [int(n) for n in args.per_api.split(",")]
    args.rounds = args.rounds or (1 if args.quick else 3)
    if args.quick:
        args.duration = min(args.duration, 4)
    if args.lookup_entries is None:
        args.lookup_entries = 100_000 if args.quick else 1_000_000
    args.tools = args.tools.split(",") if args.tools else catalog_sources()
    return args


# --- Caches ---------------------------------------------------------------------------------------


def _import(console: Console, folder: Path, home: Path, catalog: Catalog) -> int:
    backend = DiskBackend(home / "cache")
    try:
        with progress_bar(
            console, count_reference_files(folder), f"importing {folder.name}"
        ) as bar:
            report = import_reference(backend, folder, catalog, progress=lambda _n: bar(1))
        if report.skipped or report.skipped_files:
            console.print(f"[yellow]import skipped: {report.problems[:3]}[/yellow]")
        return len(backend)
    finally:
        backend.close()


def build_caches(
    console: Console,
    scratch: Path,
    tools: list[str],
    per_api: list[int],
    *,
    large_apis: int = 20,
    bodies: int = 4000,
    reference: Path | None = None,
) -> list[Cache]:
    """Write and import one cache per size in ``per_api`` (or import the ``reference`` cache).

    A size over 1,000 entries per API covers ``large_apis`` APIs spread over the
    catalog; smaller ones cover every API. Each gets ``bodies`` distinct bodies.
    """
    catalog = Catalog.from_paths(tools)
    console.print(f"catalog: {len(catalog):,} APIs from {', '.join(Path(t).name for t in tools)}")
    if reference is not None:
        home = scratch / "home-reference"
        entries = _import(console, reference, home, catalog)
        found = spread_bodies(reference, catalog, bodies)
        apis = count_reference_files(reference)
        return [Cache("reference", home, apis, entries, BodySet("reference", found))]
    everything = list(catalog)
    caches = []
    for size in per_api:
        apis = everything
        if size > 1000 and large_apis < len(everything):
            apis = everything[:: len(everything) // large_apis][:large_apis]
        folder = scratch / f"tool_response_cache-{size}"
        write_reference_cache(folder, apis, size)
        home = scratch / f"home-{size}"
        entries = _import(console, folder, home, catalog)
        found = spread_bodies(folder, catalog, bodies)
        caches.append(Cache(str(size), home, len(apis), entries, BodySet(str(size), found)))
        console.print(
            f"cache {size:,}/API: {entries:,} entries over {len(apis):,} APIs, "
            f"{len(found):,} distinct bodies"
        )
    return caches


def toolsim_env(home: Path, tools: list[str]) -> dict[str, str]:
    """The environment of a toolsim server on ``home``: replay mode, no model needed."""
    return {
        "TOOLSIM_HOME": str(home),
        "TOOLSIM_TOOLS": ",".join(tools),
        "TOOLSIM_CACHE__MODE": "replay",
        "TOOLSIM_SIMULATOR__BACKEND": "schema",
    }


# --- Servers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A server to measure and the bodies it is sent."""

    key: str
    label: str
    cache: Cache | None  # None for the baselines
    memory: bool = True
    #: Serve toolsim from this source tree instead (an earlier commit, as a baseline).
    src: Path | None = None

    @property
    def current(self) -> bool:
        """Whether this is toolsim as it is, with its reply memory (what the verdicts judge)."""
        return self.cache is not None and self.memory and self.src is None

    @property
    def home(self) -> Path:
        """The server's TOOLSIM_HOME: a store of its own, so /stats totals count it alone."""
        assert self.cache is not None
        suffix = ("" if self.memory else "-nomem") + ("" if self.src is None else "-before")
        return self.cache.home.with_name(self.cache.home.name + suffix)

    @property
    def toolsim(self) -> bool:
        """Whether this is a toolsim server (its /stats is checked)."""
        return self.cache is not None


def targets(caches: list[Cache], memory_off: bool, before: Path | None) -> list[Target]:
    """The baselines, then toolsim on every cache (memory on, off if asked, the older source)."""
    found = [Target(key, label, None) for key, (label, _) in BASELINES.items()]
    for cache in caches:
        size = "reference cache" if cache.name == "reference" else f"{int(cache.name):,}/API"
        found.append(Target(f"toolsim@{cache.name}", f"toolsim, {size}", cache))
        extra = []
        if memory_off:
            label = f"toolsim memory off, {size}"
            extra.append(Target(f"nomem@{cache.name}", label, cache, memory=False))
        if before is not None:
            label = f"toolsim from {before.name}, {size}"
            extra.append(Target(f"before@{cache.name}", label, cache, src=before.resolve()))
        for target in extra:
            shutil.copytree(cache.home, target.home)
        found += extra
    return found


def start_target(target: Target, workers: int, tools: list[str], logs: Path) -> Server:
    """Start one server with ``workers`` uvicorn workers on a free port (do not wait)."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--host", HOST, "--port", str(port)]
    command += ["--log-level", "warning", "--no-access-log", "--workers", str(workers)]
    env: dict[str, str] = {}
    if target.cache is None:
        command += ["--app-dir", str(PERF_DIR), f"_apps:{BASELINES[target.key][1]}"]
    else:
        command += ["--factory", "toolsim.server.app:app_from_env"]
        env = toolsim_env(target.home, tools) | {
            "TOOLSIM_SERVER__STATS_FLUSH_SECONDS": str(FLUSH_SECONDS)
        }
        if not target.memory:
            env["TOOLSIM_SERVER__MEMORY_ENTRIES"] = "0"
        if target.src is not None:
            # An older tree may read only the flat names settings had before their groups.
            env |= {
                old: env[new] for old, new in legacy_environment_variables().items() if new in env
            }
            # PYTHONSAFEPATH: the current folder (perhaps a toolsim checkout) must not come first.
            env |= {"PYTHONPATH": str(target.src), "PYTHONSAFEPATH": "1"}
    label = f"{target.label} x{workers}"
    return start_command(label, command, port, logs, env, group=workers > 1)


def settled_totals(server: Server) -> dict[str, int]:
    """/stats shared totals once every worker has flushed (two flush periods later)."""
    time.sleep(2 * FLUSH_SECONDS + 0.2)
    counts = httpx.get(f"{server.url}/stats", timeout=10).raise_for_status().json()["total"]
    return {name: counts[name] for name in ("hits", "misses", "errors")}


# --- Measurements ---------------------------------------------------------------------------------


class HttpBench:
    """Runs wrk against every server of one worker count, in rounds; keeps results and checks."""

    def __init__(
        self,
        console: Console,
        generator: LoadGenerator,
        *,
        duration: float,
        concurrency: int,
        rounds: int,
    ) -> None:
        self.console = console
        self.generator = generator
        self.duration = duration
        self.concurrency = concurrency
        self.rounds = rounds
        self.results: dict[tuple[str, int], list[LoadResult]] = {}
        #: Server CPU microseconds per request, per measurement (immune to other load).
        self.cpu_us: dict[tuple[str, int], list[float]] = {}
        self.checks: list[StatsCheck] = []

    def _bodies(self, target: Target, caches: list[Cache]) -> BodySet:
        # The baselines get the same bodies as the first cache (they ignore them anyway).
        return (target.cache or caches[0]).bodies

    def run_workers(
        self, workers: int, found: list[Target], caches: list[Cache], servers: dict[str, Server]
    ) -> None:
        """Warm every server up, then measure them in interleaved rounds."""
        self.console.print(f"[bold]{workers} worker(s)[/bold]: warming up")
        settled: dict[str, dict[str, int]] = {}
        for target in found:
            # Every body several times, so that each hit is in every worker's memory.
            self.generator.run(
                servers[target.key].url, self._bodies(target, caches), self.concurrency, WARM_UP
            )
            if target.toolsim:
                settled[target.key] = settled_totals(servers[target.key])
        for r in range(self.rounds):
            self.console.print(f"  round {r + 1}/{self.rounds}")
            order = found[r % len(found) :] + found[: r % len(found)]  # no server always first
            for target in order:
                server = servers[target.key]
                cpu = server.cpu_seconds()
                result = self.generator.run(
                    server.url, self._bodies(target, caches), self.concurrency, self.duration
                )
                cpu_us = (server.cpu_seconds() - cpu) / max(1, result.requests) * 1e6
                self.results.setdefault((target.key, workers), []).append(result)
                self.cpu_us.setdefault((target.key, workers), []).append(cpu_us)
                if target.toolsim:
                    after = settled_totals(server)
                    delta = {k: after[k] - settled[target.key][k] for k in after}
                    settled[target.key] = after
                    self.checks.append(
                        StatsCheck(
                            target.key,
                            workers,
                            result.requests,
                            **delta,
                            concurrency=self.concurrency,
                        )
                    )
                errors = f"  [red]{result.errors} errors[/red]" if result.errors else ""
                self.console.print(
                    f"    {target.label:<34} {result.rps:9.0f} req/s  p50 {result.p50_ms:7.2f} ms"
                    f"  p99 {result.p99_ms:7.2f} ms  CPU {cpu_us:5.1f} µs/req{errors}"
                )

    def median(self, key: str, workers: int) -> dict[str, float]:
        """Median req/s, p50 and p99 of one server's rounds."""
        runs = self.results[(key, workers)]
        return {
            "rps": statistics.median(r.rps for r in runs),
            "p50_ms": statistics.median(r.p50_ms for r in runs),
            "p99_ms": statistics.median(r.p99_ms for r in runs),
            "cpu_us": statistics.median(self.cpu_us[(key, workers)]),
            "errors": sum(r.errors for r in runs),
            "rounds": len(runs),
        }


def summarize(bench: HttpBench, found: list[Target], workers: list[int]) -> dict:
    """Medians per (workers, server), the ratios the issue asks about, and the /stats checks."""
    http: dict[str, dict] = {}
    for w in workers:
        rows = {t.key: bench.median(t.key, w) for t in found}
        for row in rows.values():
            row["share_of_raw"] = row["rps"] / rows["raw"]["rps"]
            row["p99_vs_fastapi"] = row["p99_ms"] / rows["fastapi"]["p99_ms"]
            row["cpu_share_of_raw"] = rows["raw"]["cpu_us"] / row["cpu_us"]
        http[str(w)] = rows
    checks = [asdict(c) | {"ok": c.ok} for c in bench.checks]
    return {"http": http, "stats_check": {"ok": all(c["ok"] for c in checks), "runs": checks}}


def _probe(body: bytes) -> Callable[[httpx.Client], httpx.Response]:
    return lambda client: client.post("/virtual", content=body, headers=JSON)


# --- Main -----------------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    console = Console(width=None if sys.stdout.isatty() else 120)
    started = time.monotonic()
    load_before = os.getloadavg()
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(TemporaryDirectory(prefix="toolsim-bench-")))
        logs = scratch / "logs"
        logs.mkdir()
        caches = build_caches(
            console,
            scratch,
            args.tools,
            args.per_api,
            large_apis=args.large_apis,
            bodies=args.bodies,
            reference=args.reference_cache,
        )
        generator = load_generator(args.generator, scratch)
        stack.callback(generator.close)
        console.print(f"load generator: [bold]{generator.name}[/bold]")
        if generator.name != "wrk":
            console.print("[yellow]a Python client saturates first: ratios are compressed[/yellow]")
        found = targets(caches, args.memory_off, args.before_src)
        bench = HttpBench(
            console,
            generator,
            duration=args.duration,
            concurrency=args.concurrency,
            rounds=args.rounds,
        )
        server_logs: dict[str, list[str]] = {}
        for workers in args.workers:
            with ExitStack() as running:
                servers = {}
                for target in found:
                    servers[target.key] = start_target(target, workers, args.tools, logs)
                    running.callback(servers[target.key].stop)
                for target in found:
                    wait_ready(servers[target.key], _probe(caches[0].bodies.bodies[0]), timeout=120)
                bench.run_workers(workers, found, caches, servers)
                for server in servers.values():
                    server.stop()  # now, so that shutdown problems are logged
                    server_logs[server.label] = server.log_lines()
        results = summarize(bench, found, args.workers)
    load_after = os.getloadavg()
    if args.lookup_entries:
        results["lookup"] = measure_lookups(
            console, Catalog.from_paths(["example"]), args.lookup_entries
        )
    results["setup"] = {
        "generator": generator.name,
        "duration": args.duration,
        "rounds": args.rounds,
        "concurrency": args.concurrency,
        "workers": args.workers,
        "cpus": len(os.sched_getaffinity(0)),
        "caches": {
            c.name: {"apis": c.apis, "entries": c.entries, "bodies": len(c.bodies.bodies)}
            for c in caches
        },
        "tools": [Path(t).name for t in args.tools],
        "load_average": {"before": load_before, "after": load_after},
        "seconds": time.monotonic() - started,
    }
    results["targets"] = [
        {
            "key": t.key,
            "label": t.label,
            "cache": t.cache.name if t.cache else None,
            "memory": t.memory,
            "current": t.current,
        }
        for t in found
    ]
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

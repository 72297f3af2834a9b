"""Where a hit's tail comes from: event-loop stalls and collector pauses of toolsim under load.

Serves toolsim on the issue's cache (the 2,231 APIs of StableToolBench's test
queries, 40 entries each, imported from the reference layout) twice, each
instrumented by ``_probe.py``: as ``toolsim serve`` serves it, and, as the
baseline, without :func:`~toolsim.server.app.ready_to_serve` (startup objects
left in the garbage collector's view, as before issue 16). Drives each with
``wrk -t1 -c64`` for ``--rounds`` interleaved rounds of ``--duration`` seconds,
after a warm-up, and reports per server: throughput, p99 and CPU time per
request (the instrument's own sampling included, alike for all); collections by
generation (how many, the longest in wall-clock and in CPU milliseconds);
event-loop lag (how late a 1 ms sleep woke up: p50, p99, p99.9, max); the
objects the collector tracks; and what one full collection costs at the end
(the pause whenever the collector decides on one: it does so after enough new
long-lived objects, such as replies kept in memory as objects before issue 16).

How to read it: a stall of the loop delays every request in flight, so the lag
percentiles are the tail the server itself adds; CPU milliseconds of a
collection are its own cost, the wall-clock ones add the time the process
waited for a core (other load on the machine).

``--before-src DIR`` adds a third server: toolsim from another source tree (a
commit before issue 16), to compare with the code as it was.

Usage: python perf/loop_stalls.py [--duration 10] [--rounds 2] [--before-src DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from contextlib import ExitStack
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx
from _load import LoadResult, WrkLoad, load_generator, timing_arguments
from _reference_cache import catalog_sources
from _servers import HOST, PERF_DIR, free_port, start_command, wait_ready
from cache_hits import WARM_UP, build_caches, toolsim_env
from rich.console import Console
from rich.table import Table

#: (key, label, extra environment).
SERVERS = (
    ("served", "toolsim, as served", {}),
    ("no_freeze", "toolsim, without gc.freeze", {"PROBE_NO_FREEZE": "1"}),
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    timing_arguments(parser, duration=10, rounds=2)
    parser.add_argument("--per-api", type=int, default=40, help="entries per API")
    parser.add_argument("--bodies", type=int, default=4000, help="distinct calls rotated")
    parser.add_argument(
        "--before-src",
        type=Path,
        help="also serve toolsim from this source tree (e.g. `git archive <commit> | tar -x -C "
        "DIR` of a commit before issue 16), without gc.freeze",
    )
    return parser.parse_args()


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def summarize(probe: dict, runs: list[tuple[LoadResult, float]]) -> dict:
    """The probe's record of one server, with the medians of wrk's runs and CPU per request."""
    row = {
        "rps": statistics.median(r.rps for r, _ in runs),
        "p99_ms": statistics.median(r.p99_ms for r, _ in runs),
        "cpu_us": statistics.median(cpu for _, cpu in runs),
        "tracked_objects": probe["tracked_objects"],
        "full_collection_ms": probe["full_collection_ms"],
        "frozen_objects": probe["frozen_objects"],
    }
    for generation in (0, 1, 2):
        pauses = [(wall, cpu) for g, wall, cpu in probe["collections"] if g == generation]
        row[f"gen{generation}"] = {
            "count": len(pauses),
            "max_wall_ms": max((w for w, _ in pauses), default=0.0),
            "max_cpu_ms": max((c for _, c in pauses), default=0.0),
        }
    lags = probe["lags_ms"]
    row["lag_ms"] = {
        "p50": _quantile(lags, 0.5),
        "p99": _quantile(lags, 0.99),
        "p999": _quantile(lags, 0.999),
        "max": max(lags, default=0.0),
    }
    return row


def print_table(console: Console, rows: dict[str, dict]) -> None:
    """One row per server."""
    table = Table(title="toolsim under wrk -t1 -c64: collector pauses and event-loop lag")
    columns = ["server", "req/s", "p99 ms", "CPU µs/req", "gen2 n", "gen2 max ms (CPU)"]
    columns += ["gen1 max ms (CPU)"]
    columns += ["lag p99 ms", "lag p99.9 ms", "lag max ms", "tracked objects"]
    columns += ["full collection ms (CPU)"]
    for column in columns:
        table.add_column(column, justify="left" if column == "server" else "right")
    for label, row in rows.items():
        table.add_row(
            label,
            f"{row['rps']:,.0f}",
            f"{row['p99_ms']:.1f}",
            f"{row['cpu_us']:.1f}",
            str(row["gen2"]["count"]),
            f"{row['gen2']['max_wall_ms']:.1f} ({row['gen2']['max_cpu_ms']:.1f})",
            f"{row['gen1']['max_wall_ms']:.1f} ({row['gen1']['max_cpu_ms']:.1f})",
            f"{row['lag_ms']['p99']:.1f}",
            f"{row['lag_ms']['p999']:.1f}",
            f"{row['lag_ms']['max']:.1f}",
            f"{row['tracked_objects']:,}",
            "{:.1f} ({:.1f})".format(*row["full_collection_ms"]),
        )
    console.print(table)


def main() -> None:
    args = parse_args()
    console = Console(width=None if sys.stdout.isatty() else 140)
    tools = catalog_sources()
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(TemporaryDirectory(prefix="toolsim-stalls-")))
        logs = scratch / "logs"
        logs.mkdir()
        cache = build_caches(console, scratch, tools, [args.per_api], bodies=args.bodies)[0]
        generator = load_generator("wrk", scratch)
        assert isinstance(generator, WrkLoad)
        servers = {}
        chosen = list(SERVERS)
        if args.before_src is not None:
            # PYTHONSAFEPATH: the current folder (perhaps a toolsim checkout) must not come first.
            before = {
                "PROBE_NO_FREEZE": "1",
                "PYTHONPATH": str(args.before_src.resolve()),
                "PYTHONSAFEPATH": "1",
            }
            chosen.append(("before_src", f"toolsim from {args.before_src.name}", before))
        for key, label, extra in chosen:
            port = free_port()
            command = [sys.executable, "-m", "uvicorn", "--host", HOST, "--port", str(port)]
            command += ["--log-level", "warning", "--no-access-log", "--app-dir", str(PERF_DIR)]
            command += ["--factory", "_probe:probed_app"]
            env = toolsim_env(cache.home, tools) | extra | {"PROBE_OUT": str(scratch / key)}
            servers[key] = start_command(label, command, port, logs, env)
            stack.callback(servers[key].stop)
        for server in servers.values():
            wait_ready(server, lambda client: client.get("/healthz"), timeout=120)
            generator.run(server.url, cache.bodies, 64, WARM_UP)
            httpx.post(f"{server.url}/probe", timeout=10).raise_for_status()
        runs: dict[str, list] = {key: [] for key in servers}
        for r in range(args.rounds):
            for key, server in servers.items() if r % 2 == 0 else reversed(servers.items()):
                cpu = server.cpu_seconds()
                result = generator.run(server.url, cache.bodies, 64, args.duration)
                cpu_us = (server.cpu_seconds() - cpu) / max(1, result.requests) * 1e6
                runs[key].append((result, cpu_us))
                console.print(
                    f"  round {r + 1} {server.label:<32} {result.rps:8,.0f} req/s  "
                    f"p99 {result.p99_ms:7.2f} ms  CPU {cpu_us:5.1f} µs/req"
                )
        for server in servers.values():
            server.stop()  # the probe writes its record at exit
        rows = {
            servers[key].label: summarize(json.loads((scratch / key).read_text()), runs[key])
            for key in servers
        }
    print_table(console, rows)
    console.print_json(json.dumps(rows))


if __name__ == "__main__":
    main()

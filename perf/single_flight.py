"""Single-flight: N concurrent identical cache misses cost one simulation, not N.

Runs against the real local model (SmolLM2-135M on toolsim's in-process
llama.cpp server), in one process, with the app driven through httpx's
``ASGITransport``:

1. **toolsim**: ``--requests`` (50) concurrent ``POST /virtual`` of one call the
   fresh cache has never seen. ``ToolService`` must run exactly one simulation;
   every waiter must get the same reply.
2. **baseline**: the same call handed straight to the simulator ``--requests``
   times at once (``asyncio.gather(*(sim.simulate(req) ...))``), which is what a
   server without single-flight would do. Same simulator, same model server,
   same prompt (no examples: the cache is empty in both phases).

Counted: simulations (``simulate`` invocations) and model requests (the
simulator's ``calls``: one per attempt, so a reply that fails validation and is
retried counts more than once). Before both, one warm-up simulation of another
call is timed: that is what a single miss costs on an idle model.

The simulation timeout (``--llm-timeout``) is raised far above toolsim's default
(120 s) because it also covers time spent queued for one of the simulator's
``simulator.concurrency`` slots: under the default, most of the baseline's 50 queued
calls would time out instead of being counted.

Exits 1 if the toolsim phase ran more than one simulation, answered a request
with anything but HTTP 200, or gave the waiters different replies.

Usage: python perf/single_flight.py [--requests 50] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx
import orjson
from rich.console import Console
from rich.table import Table

from toolsim.cache.keys import cache_key, normalize_arguments
from toolsim.llm.model_files import MODEL_NAME
from toolsim.server import create_app
from toolsim.settings import Settings
from toolsim.simulator.base import Simulation, SimulationRequest, Simulator

#: The call every request makes (never seen: the cache starts empty), and the warm-up call.
CALL = ("Weather", "SkyCast Weather", "Current Weather", {"city": "Reykjavik"})
WARM_UP = ("Weather", "SkyCast Weather", "Current Weather", {"city": "Warm-up Town"})


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=50, help="concurrent identical calls")
    parser.add_argument(
        "--llm-timeout", type=float, default=3600, help="seconds per simulation, queueing included"
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    return parser.parse_args()


class CountedSimulate:
    """Wraps a simulator's ``simulate`` on the instance, counting invocations."""

    def __init__(self, simulator: Simulator) -> None:
        self.count = 0
        self._simulate = simulator.simulate
        simulator.simulate = self  # type: ignore[method-assign]

    async def __call__(self, request: SimulationRequest) -> Simulation:
        self.count += 1
        return await self._simulate(request)


def _request(app: Any, call: tuple) -> SimulationRequest:
    """The simulation request ToolService would build for ``call`` on an empty cache."""
    category, tool, api_name, arguments = call
    api = app.state.service.catalog.resolve(category, tool, api_name)
    normalized = normalize_arguments(api, arguments)
    return SimulationRequest(api=api, arguments=normalized, key=cache_key(api, normalized))


def _body(call: tuple) -> bytes:
    category, tool, api_name, arguments = call
    return orjson.dumps(
        {
            "category": category,
            "tool_name": tool,
            "api_name": api_name,
            "tool_input": orjson.dumps(arguments).decode(),
        }
    )


async def run(args: argparse.Namespace, home: Path, console: Console) -> dict[str, Any]:
    """Start the model, warm it up, then run the toolsim phase and the baseline."""
    settings = Settings(
        home=home, tools=["example"], simulator={"backend": "local", "timeout": args.llm_timeout}
    )
    app = create_app(settings)
    service = app.state.service
    sim = service.simulator
    counted = CountedSimulate(sim)
    results: dict[str, Any] = {}
    try:
        started = time.perf_counter()
        await sim.server.endpoint()
        results["model_start_s"] = time.perf_counter() - started
        console.print(f"model server started in {results['model_start_s']:.1f} s; warming up")
        started = time.perf_counter()
        await sim.simulate(_request(app, WARM_UP))
        results["single_miss_s"] = time.perf_counter() - started
        console.print(f"one miss alone (warm-up): {results['single_miss_s']:.1f} s")

        # --- toolsim: N identical misses through the server --------------------------------------
        console.print(f"[bold]toolsim[/bold]: {args.requests} concurrent POST /virtual, one call")
        sims, calls = counted.count, sim.calls
        transport = httpx.ASGITransport(app=app)
        headers = {"content-type": "application/json"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", timeout=args.llm_timeout + 60
        ) as client:
            body = _body(CALL)
            started = time.perf_counter()
            replies = await asyncio.gather(
                *(
                    client.post("/virtual", content=body, headers=headers)
                    for _ in range(args.requests)
                )
            )
            wall = time.perf_counter() - started
        counts = service.stats.snapshot(service.backend)["since_start"]
        distinct = {r.content for r in replies}
        first = orjson.loads(replies[0].content)
        results["toolsim"] = {
            "requests": args.requests,
            "simulations": counted.count - sims,
            "model_requests": sim.calls - calls,
            "wall_s": wall,
            "non_200": sum(r.status_code != 200 for r in replies),
            "distinct_replies": len(distinct),
            "reply_error": first["error"],
            "stats_misses": counts["misses"],
            "stats_errors": counts["errors"],
            "reply": first,
        }

        # --- baseline: the simulator called N times at once --------------------------------------
        console.print(f"[bold]baseline[/bold]: {args.requests} concurrent simulate() of that call")
        sims, calls = counted.count, sim.calls
        request = _request(app, CALL)
        started = time.perf_counter()
        outcomes = await asyncio.gather(
            *(sim.simulate(request) for _ in range(args.requests)), return_exceptions=True
        )
        wall = time.perf_counter() - started
        answers = [o for o in outcomes if isinstance(o, Simulation)]
        failures = [o for o in outcomes if not isinstance(o, Simulation)]
        results["baseline"] = {
            "requests": args.requests,
            "simulations": counted.count - sims,
            "model_requests": sim.calls - calls,
            "wall_s": wall,
            "failed": len(failures),
            "failures": sorted({str(f)[:120] for f in failures}),
            "distinct_replies": len({orjson.dumps(a.reply.model_dump()) for a in answers}),
        }
    finally:
        await sim.aclose()
        service.backend.close()
    return results


def verdict(results: dict[str, Any]) -> list[str]:
    """What is wrong with the toolsim phase; empty if single-flight held."""
    toolsim, problems = results["toolsim"], []
    if toolsim["simulations"] != 1:
        problems.append(f"{toolsim['simulations']} simulations, not 1")
    if toolsim["non_200"]:
        problems.append(f"{toolsim['non_200']} replies were not HTTP 200")
    if toolsim["distinct_replies"] != 1:
        problems.append(f"{toolsim['distinct_replies']} different replies, not 1")
    return problems


def print_table(console: Console, results: dict[str, Any]) -> None:
    """The two phases side by side."""
    table = Table(
        title=f"{results['toolsim']['requests']} concurrent identical misses, "
        f"{results['setup']['model']} ({results['setup']['cpus']} CPUs)"
    )
    for column in ("", "simulations", "model requests", "wall s", "failed", "distinct replies"):
        table.add_column(column, justify="left" if not column else "right")
    toolsim, baseline = results["toolsim"], results["baseline"]
    table.add_row(
        "toolsim (single-flight)",
        str(toolsim["simulations"]),
        str(toolsim["model_requests"]),
        f"{toolsim['wall_s']:.1f}",
        str(toolsim["stats_errors"]),
        str(toolsim["distinct_replies"]),
        style="bold",
    )
    table.add_row(
        "baseline (simulator x N)",
        str(baseline["simulations"]),
        str(baseline["model_requests"]),
        f"{baseline['wall_s']:.1f}",
        str(baseline["failed"]),
        str(baseline["distinct_replies"]),
    )
    console.print(table)
    console.print(
        f"one miss alone: {results['single_miss_s']:.1f} s; load average "
        f"{results['setup']['load_before'][0]:.2f} before, {results['setup']['load_after'][0]:.2f}"
        f" after; reply error field: {results['toolsim']['reply_error']!r}"
    )
    for failure in baseline["failures"]:
        console.print(f"[yellow]baseline failure: {failure}[/yellow]")


def markdown(results: dict[str, Any]) -> str:
    """The same numbers as a markdown block for the README."""
    setup, toolsim, baseline = results["setup"], results["toolsim"], results["baseline"]
    n = toolsim["requests"]
    notes = []
    if baseline["distinct_replies"] > 1:
        notes = [
            "",
            f"The baseline's {baseline['distinct_replies']} distinct replies to one call at "
            "temperature 0: llama.cpp's results depend slightly on how many slots share a batch.",
        ]
    return "\n".join(
        [
            f"Single-flight: {n} concurrent `POST /virtual` of one never-seen call vs the "
            f"simulator called {n} times at once; {setup['model']} on the in-process llama.cpp "
            f"server ({setup['slots']} slots), {setup['cpus']} CPUs, load average "
            f"{setup['load_before'][0]:.2f} -> {setup['load_after'][0]:.2f}. "
            f"One miss alone took {results['single_miss_s']:.1f} s.",
            "",
            "| | simulations | model requests | wall s | failed | distinct replies |",
            "|---|---:|---:|---:|---:|---:|",
            f"| toolsim (single-flight) | {toolsim['simulations']} | {toolsim['model_requests']} | "
            f"{toolsim['wall_s']:.1f} | {toolsim['stats_errors']} | "
            f"{toolsim['distinct_replies']} |",
            f"| no single-flight | {baseline['simulations']} | {baseline['model_requests']} | "
            f"{baseline['wall_s']:.1f} | {baseline['failed']} | {baseline['distinct_replies']} |",
            *notes,
        ]
    )


def main() -> None:
    args = parse_args()
    # Inherited TOOLSIM_* variables would change what is measured.
    for name in [name for name in os.environ if name.startswith("TOOLSIM_")]:
        del os.environ[name]
    console = Console(width=None if sys.stdout.isatty() else 120)
    started = time.monotonic()
    load_before = os.getloadavg()
    with TemporaryDirectory(prefix="toolsim-bench-") as scratch:
        results = asyncio.run(run(args, Path(scratch), console))
    settings = Settings()
    results["setup"] = {
        "model": MODEL_NAME,
        "slots": settings.local.slots,
        "llm_concurrency": settings.simulator.concurrency,
        "llm_timeout": args.llm_timeout,
        "cpus": len(os.sched_getaffinity(0)),
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "seconds": time.monotonic() - started,
    }
    print_table(console, results)
    problems = verdict(results)
    if problems:
        console.print(f"[red]single-flight FAILED: {'; '.join(problems)}[/red]")
    else:
        console.print("[green]single-flight OK: one simulation, one reply for all[/green]")
    console.print(f"total time {results['setup']['seconds']:.0f} s\n")
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
        console.print(f"\nresults written to {args.json}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()

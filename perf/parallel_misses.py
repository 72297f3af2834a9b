"""Parallel misses: do distinct concurrent cache misses finish sooner than one by one?

Runs against the real local model (SmolLM2-135M on toolsim's in-process
llama.cpp server, started once with ``--slots`` parallel sequences, and the
simulator's ``concurrency`` set to the same number), in one process, with
the app driven through httpx's ``ASGITransport``. ``--requests`` (16) distinct
``POST /virtual`` calls (Current Weather in 16 cities) are sent:

* **sequential**: one by one, each after the previous reply;
* **concurrent**: all at once (``asyncio.gather``).

Each phase gets a fresh, empty cache, so every request is a miss, and both
phases send the same calls. Examples are turned off (``examples=0``): otherwise
sequential calls would see the replies stored before them as examples (longer
prompts) while concurrent ones would not. Phases alternate over ``--rounds``
rounds (which goes first alternates too) and medians are reported.

Reported per phase: wall time, per-request latency (for concurrent requests,
from the common start, so queueing for a slot is included), generated tokens
per second of wall time (from the ``usage`` of each model response, read by
wrapping the simulator's OpenAI client), model requests (retries included), the
outcome of each request, and the 1-minute load average before and after, so a
reader can judge how much other work shared the cores. Outcomes: ``ok`` (a valid
reply), ``api error`` (a valid reply that plays an API error), ``invalid`` (no
valid reply after the last attempt), ``timeout`` and ``failed``; the last three
are toolsim errors, cross-checked against the service's error counter.

The simulation timeout (``--llm-timeout``) is raised above toolsim's default
(120 s) because it also covers time queued for one of the simulator's slots.

Usage: python perf/parallel_misses.py [--slots 4] [--requests 16] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx
import orjson
from rich.console import Console
from rich.table import Table

from toolsim.cache.keys import cache_key, normalize_arguments
from toolsim.catalog import Catalog
from toolsim.llm.model_files import MODEL_NAME
from toolsim.server import create_app
from toolsim.settings import Settings
from toolsim.simulator.base import SimulationRequest
from toolsim.simulator.factories import LocalSimulator, local_simulator

API = ("Weather", "SkyCast Weather", "Current Weather")
CITIES = [
    "Lisbon", "Oslo", "Lima", "Nairobi", "Hanoi", "Quito", "Tbilisi", "Perth",
    "Montreal", "Dakar", "Seoul", "Bergen", "Cusco", "Porto", "Osaka", "Tunis",
]  # fmt: skip
OUTCOMES = ("ok", "api error", "invalid", "timeout", "failed")
TOOLSIM_ERRORS = ("invalid", "timeout", "failed")
MODES = ("sequential", "concurrent")
HEADERS = {"content-type": "application/json"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--slots", type=int, default=4, help="model slots = the simulator's concurrency"
    )
    parser.add_argument("--requests", type=int, default=16, help="distinct calls per phase")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of both phases")
    parser.add_argument(
        "--llm-timeout", type=float, default=900, help="seconds per simulation, queueing included"
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    return parser.parse_args()


def city(i: int) -> str:
    """The ``i``-th city called."""
    return CITIES[i] if i < len(CITIES) else f"City {i}"


def bodies(n: int) -> list[bytes]:
    """``n`` distinct ``/virtual`` bodies."""
    category, tool, api = API
    return [
        orjson.dumps(
            {
                "category": category,
                "tool_name": tool,
                "api_name": api,
                "tool_input": orjson.dumps({"city": city(i)}).decode(),
            }
        )
        for i in range(n)
    ]


def outcome(reply: httpx.Response) -> str:
    """Which of :data:`OUTCOMES` a ``/virtual`` reply is."""
    if reply.status_code != 200:
        return "failed"
    error = orjson.loads(reply.content)["error"]
    if not error:
        return "ok"
    if error.startswith("no valid reply"):
        return "invalid"
    if "did not answer within" in error or "timed out" in error:
        return "timeout"
    if error.startswith(("the model", "cannot reach", "simulator ")):
        return "failed"
    return "api error"


class UsageMeter:
    """The token usage of every model response the simulator receives (its client counts it)."""

    def __init__(self) -> None:
        self._sim: LocalSimulator | None = None

    async def install(self, sim: LocalSimulator) -> None:
        """Read the usage of ``sim``'s model client from now on."""
        self._sim = sim

    @property
    def prompt_tokens(self) -> int:
        """Prompt tokens so far."""
        return self._sim.chat.prompt_tokens if self._sim else 0

    @property
    def completion_tokens(self) -> int:
        """Completion tokens so far."""
        return self._sim.chat.completion_tokens if self._sim else 0


@dataclass
class Phase:
    """One phase of one round."""

    mode: str
    round: int
    wall_s: float
    latencies_s: list[float]
    outcomes: dict[str, int]
    stats_errors: int
    model_requests: int
    prompt_tokens: int
    completion_tokens: int
    load_before: float
    load_after: float
    errors: list[str] = field(default_factory=list)

    @property
    def tokens_per_s(self) -> float:
        """Generated tokens per second of wall time."""
        return self.completion_tokens / self.wall_s


async def run_phase(
    mode: str, round_: int, sim: LocalSimulator, meter: UsageMeter, home: Path, n: int
) -> Phase:
    """Send ``n`` distinct misses one by one or all at once to a server on a fresh cache."""
    app = create_app(Settings(home=home, tools=["example"]), simulator=sim)
    service = app.state.service
    transport = httpx.ASGITransport(app=app)
    timeout = sim.options.timeout + 60
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", timeout=timeout
        ) as client:

            async def timed(
                body: bytes, since: float | None = None
            ) -> tuple[httpx.Response, float]:
                started = time.perf_counter() if since is None else since
                reply = await client.post("/virtual", content=body, headers=HEADERS)
                return reply, time.perf_counter() - started

            load_before = os.getloadavg()[0]
            calls, prompt, completion = sim.calls, meter.prompt_tokens, meter.completion_tokens
            started = time.perf_counter()
            if mode == "sequential":
                answers = [await timed(body) for body in bodies(n)]
            else:
                answers = await asyncio.gather(*(timed(body, started) for body in bodies(n)))
            wall = time.perf_counter() - started
        kinds = [outcome(reply) for reply, _ in answers]
        return Phase(
            mode=mode,
            round=round_,
            wall_s=wall,
            latencies_s=[latency for _, latency in answers],
            outcomes={name: kinds.count(name) for name in OUTCOMES},
            stats_errors=service.stats.snapshot(service.backend)["since_start"]["errors"],
            model_requests=sim.calls - calls,
            prompt_tokens=meter.prompt_tokens - prompt,
            completion_tokens=meter.completion_tokens - completion,
            load_before=load_before,
            load_after=os.getloadavg()[0],
            errors=sorted(
                {
                    orjson.loads(reply.content)["error"][:160]
                    for (reply, _), kind in zip(answers, kinds, strict=True)
                    if kind in TOOLSIM_ERRORS and reply.status_code == 200
                }
            ),
        )
    finally:
        service.backend.close()


async def run(args: argparse.Namespace, scratch: Path, console: Console) -> dict[str, Any]:
    """Start the model once, warm it up, then run the phases round by round."""
    settings = Settings(
        home=scratch / "model",
        local={"slots": args.slots},
        simulator={"examples": 0, "concurrency": args.slots, "timeout": args.llm_timeout},
    )
    sim = local_simulator(settings=settings)
    meter = UsageMeter()
    phases: list[Phase] = []
    try:
        started = time.perf_counter()
        await sim.server.endpoint()
        await meter.install(sim)
        start_s = time.perf_counter() - started
        api = Catalog.from_paths(["example"]).resolve(*API)
        normalized = normalize_arguments(api, {"city": "Warm-up Town"})
        started = time.perf_counter()
        await sim.simulate(SimulationRequest(api, normalized, cache_key(api, normalized)))
        warm_up_s = time.perf_counter() - started
        console.print(
            f"model server ({args.slots} slots) started in {start_s:.1f} s; "
            f"one miss alone (warm-up) {warm_up_s:.1f} s"
        )
        for r in range(args.rounds):
            for mode in MODES if r % 2 == 0 else MODES[::-1]:
                console.print(f"round {r + 1}/{args.rounds} {mode}: {args.requests} misses")
                phase = await run_phase(
                    mode, r + 1, sim, meter, scratch / f"{mode}-{r}", args.requests
                )
                phases.append(phase)
                console.print(
                    f"  wall {phase.wall_s:6.1f} s  median latency "
                    f"{statistics.median(phase.latencies_s):5.1f} s  "
                    f"{phase.tokens_per_s:5.1f} tok/s  {phase.outcomes}"
                )
    finally:
        await sim.aclose()
    return {
        "phases": [asdict(p) | {"tokens_per_s": p.tokens_per_s} for p in phases],
        "summary": summarize(phases),
        "model_start_s": start_s,
        "single_miss_s": warm_up_s,
    }


def summarize(phases: list[Phase]) -> dict[str, Any]:
    """Medians per mode over rounds, pooled latencies, outcome totals and the speed-up."""
    summary: dict[str, Any] = {}
    for mode in MODES:
        mine = [p for p in phases if p.mode == mode]
        totals: Counter[str] = Counter()
        for p in mine:
            totals.update(p.outcomes)
        summary[mode] = {
            "wall_s": statistics.median(p.wall_s for p in mine),
            "latency_median_s": statistics.median(x for p in mine for x in p.latencies_s),
            "latency_max_s": max(x for p in mine for x in p.latencies_s),
            "tokens_per_s": statistics.median(p.tokens_per_s for p in mine),
            "completion_tokens_per_request": statistics.median(
                p.completion_tokens / max(1, p.model_requests) for p in mine
            ),
            "prompt_tokens_per_request": statistics.median(
                p.prompt_tokens / max(1, p.model_requests) for p in mine
            ),
            "model_requests": sum(p.model_requests for p in mine),
            "outcomes": dict(totals),
            "stats_errors": sum(p.stats_errors for p in mine),
            "load_before": [p.load_before for p in mine],
            "load_after": [p.load_after for p in mine],
        }
    rounds = sorted({p.round for p in phases})
    by = {(p.mode, p.round): p for p in phases}
    summary["speedup"] = summary["sequential"]["wall_s"] / summary["concurrent"]["wall_s"]
    summary["speedup_per_round"] = [
        by["sequential", r].wall_s / by["concurrent", r].wall_s for r in rounds
    ]
    return summary


def _loads(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def print_tables(console: Console, results: dict[str, Any]) -> None:
    """Every phase, then the medians and the speed-up."""
    setup, summary = results["setup"], results["summary"]
    phases = Table(title=f"{setup['requests']} distinct misses per phase, {setup['slots']} slots")
    columns = ("round", "mode", "wall s", "median lat s", "max lat s", "tok/s", "model reqs")
    for column in (*columns, *OUTCOMES, "load before", "load after"):
        phases.add_column(
            column, justify="left" if column == "mode" else "right", no_wrap=column == "mode"
        )
    for p in results["phases"]:
        phases.add_row(
            str(p["round"]),
            p["mode"],
            f"{p['wall_s']:.1f}",
            f"{statistics.median(p['latencies_s']):.1f}",
            f"{max(p['latencies_s']):.1f}",
            f"{p['tokens_per_s']:.1f}",
            str(p["model_requests"]),
            *(str(p["outcomes"][name]) for name in OUTCOMES),
            f"{p['load_before']:.2f}",
            f"{p['load_after']:.2f}",
        )
    console.print(phases)

    table = Table(
        title=f"Medians over {setup['rounds']} rounds: speed-up {summary['speedup']:.2f}x "
        f"(per round {', '.join(f'{s:.2f}' for s in summary['speedup_per_round'])})"
    )
    for column in ("mode", "wall s", "median lat s", "tok/s", "gen tok/req", "prompt tok/req"):
        table.add_column(column, justify="left" if column == "mode" else "right")
    table.add_column("toolsim errors", justify="right")
    for mode in MODES:
        row = summary[mode]
        failures = sum(row["outcomes"][name] for name in TOOLSIM_ERRORS)
        table.add_row(
            mode,
            f"{row['wall_s']:.1f}",
            f"{row['latency_median_s']:.1f}",
            f"{row['tokens_per_s']:.1f}",
            f"{row['completion_tokens_per_request']:.0f}",
            f"{row['prompt_tokens_per_request']:.0f}",
            f"{failures} (counter {row['stats_errors']})",
        )
    console.print(table)
    for p in results["phases"]:
        for error in p["errors"]:
            console.print(f"[yellow]round {p['round']} {p['mode']}: {error}[/yellow]")


def markdown(results: dict[str, Any]) -> str:
    """The summary as a markdown block for the README."""
    setup, summary = results["setup"], results["summary"]
    per_round = ", ".join(f"{s:.2f}" for s in summary["speedup_per_round"])
    lines = [
        f"Parallel misses: {setup['requests']} distinct `POST /virtual` misses (Current Weather, "
        f"{setup['requests']} cities, fresh cache per phase, no examples) one by one vs all at "
        "once; "
        f"{setup['model']} on the in-process llama.cpp server with {setup['slots']} slots "
        f"({setup['threads']} threads), simulator concurrency {setup['slots']}, "
        f"{setup['cpus']} CPUs; "
        f"median of {setup['rounds']} rounds. **Speed-up {summary['speedup']:.2f}x** "
        f"(per round: {per_round}). One miss alone took {results['single_miss_s']:.1f} s.",
        "",
        "| mode | wall s | median latency s | generated tok/s | model requests "
        "| ok / api error / invalid / timeout / failed | 1-min load before -> after |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for mode in MODES:
        row = summary[mode]
        counts = " / ".join(str(row["outcomes"][name]) for name in OUTCOMES)
        lines.append(
            f"| {mode} | {row['wall_s']:.1f} | {row['latency_median_s']:.1f} | "
            f"{row['tokens_per_s']:.1f} | {row['model_requests']} | {counts} | "
            f"{_loads(row['load_before'])} -> {_loads(row['load_after'])} |"
        )
    if any(summary[mode]["outcomes"][name] for mode in MODES for name in TOOLSIM_ERRORS):
        lines += [
            "",
            "Requests without a valid reply are included in the wall times; an invalid reply "
            "costs every attempt.",
        ]
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    # Inherited TOOLSIM_* variables would change what is measured.
    for name in [name for name in os.environ if name.startswith("TOOLSIM_")]:
        del os.environ[name]
    console = Console(width=None if sys.stdout.isatty() else 140)
    started = time.monotonic()
    with TemporaryDirectory(prefix="toolsim-bench-") as scratch:
        results = asyncio.run(run(args, Path(scratch), console))
    results["setup"] = {
        "model": MODEL_NAME,
        "slots": args.slots,
        "threads": Settings().local.threads,
        "requests": args.requests,
        "rounds": args.rounds,
        "llm_timeout": args.llm_timeout,
        "cpus": len(os.sched_getaffinity(0)),
        "seconds": time.monotonic() - started,
    }
    print_tables(console, results)
    console.print(f"total time {results['setup']['seconds']:.0f} s\n")
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
        console.print(f"\nresults written to {args.json}")


if __name__ == "__main__":
    main()

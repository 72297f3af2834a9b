"""``toolsim bench``: a thin shell over :func:`toolsim.pipeline.run_bench`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from toolsim.catalog.parameters import ParamNames
from toolsim.cli.common import (
    CacheModeOption,
    CacheUrlOption,
    ConcurrencyOption,
    CostsOption,
    ExperienceOption,
    HomeOption,
    ParamNamesOption,
    QueryIdsOption,
    QueryTimeoutOption,
    ServerOption,
    SimulatorOption,
    WidthOption,
    settings_from_flags,
    split_list,
)
from toolsim.cli.console import console, counter, err_console, styled
from toolsim.cli.run import BarProgress, run_resumable
from toolsim.pipeline.matrix import DEFAULT_COSTS

if TYPE_CHECKING:
    from toolsim.pipeline.bench import BenchResult
    from toolsim.pipeline.matrix import Combination


class BenchBars:
    """Rich progress bars: one per combination's run, one per judging pass."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def run_progress(self, combination: Combination) -> BarProgress:
        """A bar over one combination's queries."""
        return BarProgress(self.progress, label=combination.label)

    def judge_progress(self, what: str) -> Callable[[int, int], None]:
        """A bar over the judge's verdicts for ``what``."""
        return counter(self.progress, f"judging {what}")


def bench(
    suite: Annotated[
        list[str] | None,
        typer.Option(
            "--suite", help="'example' (default) or StableToolBench query files (repeatable)."
        ),
    ] = None,
    agents: Annotated[
        str, typer.Option(help="Agents, comma-separated: cot, dfsdt (DFSDT takes ~4x longer).")
    ] = "cot",
    planners: Annotated[
        str, typer.Option(help="Planners, comma-separated (none, btp, btp-replan, ...).")
    ] = "none,btp",
    budget: Annotated[
        int | None, typer.Option(min=0, help="Cost budget per query (planners need one).")
    ] = 20,
    no_budget: Annotated[
        bool,
        typer.Option(
            "--no-budget", help="No budget at all (only planners that need none: e.g. none)."
        ),
    ] = False,
    costs: CostsOption = DEFAULT_COSTS,
    experience: ExperienceOption = None,
    runs: Annotated[int, typer.Option(min=1, help="Judge runs per answer (pass rate).")] = 1,
    rounds: Annotated[int, typer.Option(min=1, help="Judge rounds per comparison (win rate).")] = 1,
    out: Annotated[Path, typer.Option(help="Output folder (resumed if it exists).")] = Path(
        "toolsim-bench"
    ),
    query_ids: QueryIdsOption = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="With the embedded model, run all 20 example queries, not the quick half.",
        ),
    ] = False,
    server: ServerOption = None,
    concurrency: ConcurrencyOption = None,
    max_steps: Annotated[
        int | None,
        typer.Option(min=1, help="Steps of one chain (default 12; 4 with the embedded model)."),
    ] = None,
    width: WidthOption = 2,
    max_model_calls: Annotated[
        int | None,
        typer.Option(
            min=1, help="Model calls per query (default 200; 16 with the embedded model)."
        ),
    ] = None,
    query_timeout: QueryTimeoutOption = 1800.0,
    param_names: ParamNamesOption = ParamNames.DOCUMENTED,
    check_determinism: Annotated[
        bool,
        typer.Option(
            "--check-determinism",
            help="Then replay the suite twice (tool cache in replay mode) and fail on any "
            "difference in tool replies, answers or scores.",
        ),
    ] = False,
    home: HomeOption = None,
    cache_url: CacheUrlOption = None,
    cache_mode: CacheModeOption = None,
    simulator: SimulatorOption = None,
) -> None:
    """Run every agent x planner combination over a suite, evaluate, and write one report."""
    from toolsim.budget import parse_costs
    from toolsim.pipeline.bench import BenchConfig, bench_limits, bench_query_ids, run_bench

    settings = settings_from_flags(
        {
            "home": home,
            "cache.url": cache_url,
            "cache.mode": cache_mode,
            "simulator.backend": simulator,
        }
    )
    chosen_suite = split_list(suite) or ["example"]
    config = BenchConfig(
        suite=chosen_suite,
        agents=split_list([agents]),
        planners=split_list([planners]),
        out=out,
        query_ids=bench_query_ids(settings, chosen_suite, split_list(query_ids), full),
        budget=None if no_budget else budget,
        costs=parse_costs(costs),
        experience=experience,
        runs=runs,
        rounds=rounds,
        server=server,
        concurrency=concurrency,
        limits=replace(
            bench_limits(settings, max_steps, width, max_model_calls), param_names=param_names
        ),
        query_timeout=query_timeout or None,
    )
    result = run_resumable(
        lambda bars: run_bench(
            config, settings, progress=BenchBars(bars), check_determinism=check_determinism
        ),
        out,
    )
    print_summary(result)
    if result.determinism is not None and not result.determinism.passed:
        report_nondeterminism(result)
        raise typer.Exit(1)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and 0 < abs(value) < 1:
        return f"{value:.2f}"
    return (
        f"{value:.0f}"
        if isinstance(value, float) and value >= 100
        else (f"{value:.1f}" if isinstance(value, float) else str(value))
    )


def print_summary(result: BenchResult) -> None:
    """The summary table and where the report is."""
    from toolsim.pipeline.reports import SHORT_HEAD, summary_cells

    table = Table(title=f"toolsim bench ({result.wall_seconds:.0f} s)")
    for number, head in enumerate(SHORT_HEAD):
        table.add_column(head, no_wrap=True, justify="left" if number == 0 else "right")
    for row in summary_cells(result):
        table.add_row(*(_cell(value) for value in row))
    console.print(table)
    console.print(
        "n queries; SoPR% pass rate; PBC% pass rate within budget; AC average cost; RFBC% runs "
        "over or stopped by the budget; win% against the first row; LLM agent model calls; "
        "tools tool calls; sol/call solved queries per tool call; cost/sol cost per solved "
        "query; sec summed query seconds",
        style="dim",
    )
    for label, report in result.world.items():
        console.print(f"world consistency {label}: {report.line()}")
    judge = result.pass_rate.judge
    console.print(
        f"judge {judge.model}: {judge.calls} model calls, {judge.cached} answered from the cache"
    )
    if judge.identity is not None:
        console.print(judge.identity.describe(), style="dim", soft_wrap=True)
    if result.pass_rate.noise_floor is not None:
        console.print(
            f"differences under {result.pass_rate.noise_floor:.1f} points are noise at this n "
            "(95% bootstrap)"
        )
    if result.determinism is not None and result.determinism.passed:
        check = result.determinism
        console.print(
            styled(
                ("deterministic:", "green"),
                f" {check.replays} replays of {check.compared} answers matched the first run "
                "exactly",
            )
        )
    console.print(styled("report: ", (str(result.out / "report.html"), "bold")))


def report_nondeterminism(result: BenchResult) -> None:
    """Print every difference the determinism check found, loudly."""
    from toolsim.pipeline.determinism import SHOWN

    check = result.determinism
    assert check is not None
    err_console.print(
        styled(
            ("NOT DETERMINISTIC:", "bold red"),
            f" {len(check.differences)} differences between the first run and its replays "
            f"(all in {result.out / 'determinism.json'}):",
        )
    )
    for line in check.differences[:SHOWN]:
        err_console.print(f"  {line}")
    if len(check.differences) > SHOWN:
        err_console.print(f"  ... and {len(check.differences) - SHOWN} more")

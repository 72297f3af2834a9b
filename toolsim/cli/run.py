"""``toolsim run``: a thin shell over :func:`toolsim.agent.run_queries`."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.progress import Progress
from rich.table import Table

from toolsim.agent.actions import ActionMode
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
from toolsim.cli.console import console, err_console, progress_bars, styled
from toolsim.errors import UserError

if TYPE_CHECKING:
    from toolsim.agent.runner import RunSummary
    from toolsim.runs import RunRecord

T = TypeVar("T")


class BarProgress:
    """A rich progress bar over the run's queries, with the statuses so far."""

    def __init__(self, progress: Progress, label: str = "solving") -> None:
        self.progress = progress
        self.label = label
        self.task: Any = None
        self.counts: dict[str, int] = {}

    def start(self, total: int, skipped: int) -> None:
        """Show the bar; already finished queries count as done."""
        # Shown only once the run really starts, so set-up errors print alone.
        self.progress.start()
        label = f"{self.label} ({skipped} already done)" if skipped else self.label
        self.task = self.progress.add_task(label, total=total, completed=skipped)

    def advance(self, record: RunRecord) -> None:
        """One more query finished."""
        self.counts[record.status] = self.counts.get(record.status, 0) + 1
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))
        self.progress.update(self.task, advance=1, description=f"{self.label} [{counts}]")


def run(
    out: Annotated[Path, typer.Option("--out", help="The run folder (resumed if it exists).")],
    queries: Annotated[
        list[str] | None,
        typer.Option(
            "--queries",
            help="StableToolBench query files, or 'example' (repeatable; more "
            "files may follow as arguments).",
        ),
    ] = None,
    more: Annotated[
        list[str] | None, typer.Argument(help="More query files.", show_default=False)
    ] = None,
    agent: Annotated[str, typer.Option(help="cot (one chain) or dfsdt (tree search).")] = "cot",
    query_ids: QueryIdsOption = None,
    server: ServerOption = None,
    concurrency: ConcurrencyOption = None,
    planner: Annotated[str | None, typer.Option(help="A budget planner (toolsim.planner).")] = None,
    experience: ExperienceOption = None,
    budget: Annotated[int | None, typer.Option(min=0, help="Cost budget per query.")] = None,
    costs: CostsOption = None,
    action_mode: Annotated[
        ActionMode, typer.Option(help="auto (json for the local model), tools or json.")
    ] = ActionMode.AUTO,
    observation_chars: Annotated[
        int, typer.Option(min=64, help="Observations are cut to this many characters.")
    ] = 1024,
    query_timeout: QueryTimeoutOption = 1800.0,
    max_steps: Annotated[int, typer.Option(min=1, help="Steps of one chain.")] = 12,
    width: WidthOption = 2,
    max_model_calls: Annotated[
        int, typer.Option(min=1, help="Model calls per query (DFSDT stops there).")
    ] = 200,
    param_names: ParamNamesOption = ParamNames.DOCUMENTED,
    home: HomeOption = None,
    cache_url: CacheUrlOption = None,
    cache_mode: CacheModeOption = None,
    simulator: SimulatorOption = None,
) -> None:
    """Run an agent (CoT or DFSDT) over benchmark queries; write answers and records."""
    from toolsim.agent.episode import AgentLimits
    from toolsim.agent.runner import RunConfig, run_queries
    from toolsim.budget import parse_costs

    sources = [*split_list(queries), *(more or [])]
    if not sources:
        raise UserError("give query files with --queries (or --queries example)")
    settings = settings_from_flags(
        {
            "home": home,
            "cache.url": cache_url,
            "cache.mode": cache_mode,
            "simulator.backend": simulator,
        }
    )
    config = RunConfig(
        queries=sources,
        out=out,
        agent=agent,
        query_ids=split_list(query_ids),
        server=server,
        concurrency=concurrency,
        planner=planner,
        experience=experience,
        budget=budget,
        costs=parse_costs(costs),
        action_mode=action_mode,
        query_timeout=query_timeout or None,
        limits=AgentLimits(
            max_steps=max_steps,
            width=width,
            max_model_calls=max_model_calls,
            observation_chars=observation_chars,
            param_names=param_names,
        ),
    )
    summary = run_resumable(
        lambda bars: run_queries(config, settings, progress=BarProgress(bars)), out
    )
    _print_summary(summary)


def run_resumable(work: Callable[[Progress], Coroutine[Any, Any, T]], out: Path) -> T:
    """Run ``work`` under progress bars; Ctrl-C keeps what ``out`` holds and says how to resume."""
    bars = progress_bars()
    try:
        return asyncio.run(work(bars))
    except KeyboardInterrupt:
        _stop(bars)
        err_console.print(
            styled(
                ("interrupted:", "yellow"),
                f" finished answers in {out} are kept; run the same command again to resume",
            )
        )
        raise typer.Exit(130) from None
    finally:
        _stop(bars)


def _stop(bar: Progress) -> None:
    # Stopping a bar that never started prints an empty line before the error.
    if bar.live.is_started:
        bar.stop()


def _print_summary(summary: RunSummary) -> None:
    table = Table("", "value", title=f"{summary.method} run in {summary.out}")
    table.add_row("queries", f"{summary.total} ({summary.skipped} done before)")
    for status, count in sorted(summary.statuses.items()):
        table.add_row(f"  {status}", str(count))
    table.add_row("model calls", str(summary.model_calls))
    if summary.model_retries:
        table.add_row(
            "model retries (seconds waited)",
            f"{summary.model_retries} ({summary.model_retry_seconds:.1f})",
        )
    table.add_row(
        "tokens (prompt / completion)", f"{summary.prompt_tokens} / {summary.completion_tokens}"
    )
    table.add_row("tool calls", str(summary.tool_calls))
    table.add_row("cost", str(summary.cost))
    if summary.query_seconds:
        table.add_row(
            "seconds per query (median / max)",
            f"{statistics.median(summary.query_seconds):.1f} / {max(summary.query_seconds):.1f}",
        )
    table.add_row("wall seconds", f"{summary.wall_seconds:.1f}")
    console.print(table)

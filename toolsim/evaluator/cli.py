"""``toolsim eval pass-rate`` and ``toolsim eval win-rate``: thin shells over the evaluator."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.progress import Progress
from rich.table import Table

from toolsim.console import console, err_console, progress_bars, styled

eval_app = typer.Typer(
    help="Score answers: Solvable Pass Rate and Win Rate with a cached LLM judge.",
    no_args_is_help=True,
)
F = TypeVar("F", bound=Callable[..., Any])

OutOption = Annotated[
    Path,
    typer.Option("--out", help="Folder for the JSON, CSV and HTML reports (created)."),
]
HomeOption = Annotated[
    Path | None, typer.Option("--home", help="State folder with the judge cache ($TOOLSIM_HOME).")
]


def _shell(func: F) -> F:
    """The main CLI's error handling, looked up when the command runs (no import cycle)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from toolsim.cli import user_errors

        return user_errors(func)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _settings(home: Path | None) -> Any:
    from toolsim.settings import Settings

    return Settings(home=home) if home is not None else Settings()


class _Bar:
    """A rich progress bar fed by the evaluator's ``progress(done, total)`` callback."""

    def __init__(self, progress: Progress, description: str) -> None:
        self.progress = progress
        self.task = progress.add_task(description, total=None)

    def __call__(self, done: int, total: int) -> None:
        self.progress.update(self.task, completed=done, total=total)


def _rate(summary: Any) -> list[str]:
    """Mean, deviation and interval as three cells."""
    if summary is None or summary.mean is None:
        return ["n/a", "", ""]
    interval = f"{summary.ci[0]:.1f}-{summary.ci[1]:.1f}" if summary.ci else ""
    return [f"{summary.mean:.1f}", f"{summary.std:.1f}", interval]


def _table(title: str, first: str, columns: tuple[str, ...], caption: str = "") -> Table:
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    table.add_column(first, no_wrap=True)
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)
    return table


def _footer(report: Any, written: list[Path]) -> None:
    usage = report.judge
    console.print(
        f"judge {usage.model}: {usage.requests} requests, {usage.calls} model calls, "
        f"{usage.cached} from the cache, {usage.failed} failed ({report.seconds:.1f} s)",
        soft_wrap=True,
    )
    for problem in report.problems:
        err_console.print(styled(("problem:", "yellow"), f" {problem}"), soft_wrap=True)
    if written:
        console.print("reports: " + ", ".join(str(path) for path in written), soft_wrap=True)


PASS_COLUMNS = ("n", "SoPR %", "±std", "95% CI", "counts")
PASS_COUNTS = ("Solved", "Unsure", "Unsolved", "unscored")
WIN_COUNTS = ("win", "loss", "tie", "unscored")
BUDGET_COLUMNS = ("PBC %", "±std", "PR %", "±std", "AC", "RFBC %")


def print_pass_rate(report: Any) -> None:
    """One rich table per answer set (and its budget metrics when present)."""
    for entry in report.entries:
        console.print(
            styled((entry.label, "bold"), f": Solvable Pass Rate over {report.runs} runs"),
            soft_wrap=True,
        )
        table = _table("", "group", PASS_COLUMNS, "counts: " + " / ".join(PASS_COUNTS))
        budget = _table("budget", "group", BUDGET_COLUMNS)
        rows = [(g, r.rate, r.counts, r.budget, len(r.outcomes)) for g, r in entry.groups.items()]
        total = sum(len(r.outcomes) for r in entry.groups.values())
        rows.append(("average", entry.overall, entry.counts, entry.budget, total))
        for group, rate, counts, metrics, queries in rows:
            counted = "/".join(str(counts[n]) for n in PASS_COUNTS)
            table.add_row(group, str(queries), *_rate(rate), counted)
            if metrics is not None:
                budget.add_row(
                    group,
                    *_rate(metrics.pbc)[:2],
                    *_rate(metrics.pr)[:2],
                    "n/a" if metrics.ac is None else f"{metrics.ac:.2f}",
                    "n/a" if metrics.rfbc is None else f"{metrics.rfbc:.1f}",
                )
        console.print(table)
        if budget.row_count:
            console.print(budget)
    for item in report.pass_k:
        overall = {k: v["overall"] for k, v in item.values.items() if v["overall"] is not None}
        values = ", ".join(f"pass^{k} {value:.1f}" for k, value in overall.items())
        console.print(f"{item.system} ({len(item.labels)} runs): {values}")


def print_win_rate(report: Any) -> None:
    """The win-rate report as a rich table."""
    console.print(
        styled(
            (f"{report.candidate} vs {report.reference}", "bold"),
            f": Solvable Win Rate, {report.rounds} rounds",
        ),
        soft_wrap=True,
    )
    columns = ("n", "win %", "±std", "95% CI", "counts")
    table = _table("", "group", columns, "counts: " + " / ".join(WIN_COUNTS))
    rows = [(g, r.rate, r.counts, len(r.rounds)) for g, r in report.groups.items()]
    total = sum(len(r.rounds) for r in report.groups.values())
    rows.append(("average", report.overall, report.counts, total))
    for group, rate, counts, queries in rows:
        counted = "/".join(str(counts[n]) for n in WIN_COUNTS)
        table.add_row(group, str(queries), *_rate(rate), counted)
    console.print(table)


@eval_app.command("pass-rate")
@_shell
def pass_rate(
    answers: Annotated[
        list[Path],
        typer.Option(
            "--answers",
            help="A run folder, a folder of <group>.json converted files, or one such file "
            "(repeatable).",
        ),
    ],
    runs: Annotated[int, typer.Option(help="Judge runs per query (mean and std over runs).")] = 3,
    out: OutOption = Path("toolsim-eval"),
    home: HomeOption = None,
) -> None:
    """Solvable Pass Rate of one or more answer folders, per group and on average."""
    from toolsim.evaluator.pass_rate import evaluate_pass_rate
    from toolsim.evaluator.writers import prepare_out, write_reports

    prepare_out(out)  # fail before any judging if the reports cannot be written
    with progress_bars() as progress:
        report = evaluate_pass_rate(
            answers, runs=runs, settings=_settings(home), progress=_Bar(progress, "judging")
        )
    written = write_reports(out, pass_rate=report)
    print_pass_rate(report)
    _footer(report, written)


@eval_app.command("win-rate")
@_shell
def win_rate(
    answers: Annotated[Path, typer.Option("--answers", help="The candidate's answers.")],
    reference: Annotated[Path, typer.Option("--reference", help="The reference answers.")],
    rounds: Annotated[int, typer.Option(help="Comparison rounds per query.")] = 3,
    out: OutOption = Path("toolsim-eval"),
    home: HomeOption = None,
) -> None:
    """Solvable Win Rate of a candidate against a reference on the queries both answered."""
    from toolsim.evaluator.win_rate import evaluate_win_rate
    from toolsim.evaluator.writers import prepare_out, write_reports

    prepare_out(out)
    with progress_bars() as progress:
        report = evaluate_win_rate(
            answers,
            reference,
            rounds=rounds,
            settings=_settings(home),
            progress=_Bar(progress, "judging"),
        )
    written = write_reports(out, win_rate=report)
    print_win_rate(report)
    _footer(report, written)

"""``toolsim eval``: pass rate, win rate, a judge's agreement, fidelity (thin shells)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from toolsim.cli.common import HomeOption, settings_from_flags
from toolsim.cli.console import console, counter, err_console, progress_bars, styled
from toolsim.cli.fidelity import fidelity

eval_app = typer.Typer(
    help="Score answers: Solvable Pass Rate, Win Rate, and a judge's agreement with reference "
    "labels.",
    no_args_is_help=True,
)

OutOption = Annotated[
    Path,
    typer.Option("--out", help="Folder for the JSON, CSV and HTML reports (created)."),
]
JudgeOption = Annotated[
    str | None,
    typer.Option(
        "--judge",
        help="learned, local (embedded LLM), openai, or a plug-in "
        "(default $TOOLSIM_JUDGE__BACKEND: learned offline, openai with a judge endpoint).",
    ),
]


def _rate(summary: Any) -> list[str]:
    """Mean, deviation and interval as three cells."""
    if summary is None or summary.mean is None:
        return ["n/a", "", ""]
    interval = f"{summary.ci[0]:.1f}-{summary.ci[1]:.1f}" if summary.ci else ""
    return [f"{summary.mean:.1f}", f"{summary.std:.1f}", interval]


def report_table(title: str, first: str, columns: tuple[str, ...], caption: str = "") -> Table:
    """A left-titled table: a first column of names, then right-aligned numbers."""
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    table.add_column(first, no_wrap=True)
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)
    return table


def print_judge(usage: Any, seconds: float, noise_floor: float | None = None) -> None:
    """The judge's identity, what it did, and the noise floor of the numbers it produced."""
    console.print(
        f"judge {usage.model}: {usage.requests} requests, {usage.calls} model calls, "
        f"{usage.cached} from the cache, {usage.failed} failed ({seconds:.1f} s)",
        soft_wrap=True,
    )
    if usage.identity is not None:
        console.print(usage.identity.describe(), style="dim", soft_wrap=True)
    if noise_floor is not None:
        console.print(
            f"differences under {noise_floor:.1f} points between two systems are noise at this "
            "n (95% bootstrap)",
            soft_wrap=True,
        )


Report = TypeVar("Report")


def _judged(
    out: Path,
    home: Path | None,
    judge: str | None,
    evaluate: Callable[..., Report],
    *args: Any,
    **options: Any,
) -> Report:
    """``evaluate(*args, **options)`` under progress bars, with the judge the flags chose."""
    from toolsim.evaluator.reports.writers import prepare_out

    prepare_out(out)  # fail before any judging if the reports cannot be written
    with progress_bars() as progress:
        return evaluate(
            *args,
            **options,
            settings=settings_from_flags({"home": home, "judge.backend": judge}),
            progress=counter(progress, "judging"),
        )


def _footer(
    usage: Any, seconds: float, noise_floor: float | None, problems: list[str], written: list[Path]
) -> None:
    """The judge, the problems met, and the reports written."""
    print_judge(usage, seconds, noise_floor)
    for problem in problems:
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
        table = report_table("", "group", PASS_COLUMNS, "counts: " + " / ".join(PASS_COUNTS))
        budget = report_table("budget", "group", BUDGET_COLUMNS)
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
    table = report_table("", "group", columns, "counts: " + " / ".join(WIN_COUNTS))
    rows = [(g, r.rate, r.counts, len(r.rounds)) for g, r in report.groups.items()]
    total = sum(len(r.rounds) for r in report.groups.values())
    rows.append(("average", report.overall, report.counts, total))
    for group, rate, counts, queries in rows:
        counted = "/".join(str(counts[n]) for n in WIN_COUNTS)
        table.add_row(group, str(queries), *_rate(rate), counted)
    console.print(table)


@eval_app.command("pass-rate")
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
    judge: JudgeOption = None,
) -> None:
    """Solvable Pass Rate of one or more answer folders, per group and on average."""
    from toolsim.evaluator.reports.writers import write_reports
    from toolsim.evaluator.scoring.pass_rate import evaluate_pass_rate

    report = _judged(out, home, judge, evaluate_pass_rate, answers, runs=runs)
    written = write_reports(out, pass_rate=report)
    print_pass_rate(report)
    _footer(report.judge, report.seconds, report.noise_floor, report.problems, written)


@eval_app.command("win-rate")
def win_rate(
    answers: Annotated[Path, typer.Option("--answers", help="The candidate's answers.")],
    reference: Annotated[Path, typer.Option("--reference", help="The reference answers.")],
    rounds: Annotated[int, typer.Option(help="Comparison rounds per query.")] = 3,
    out: OutOption = Path("toolsim-eval"),
    home: HomeOption = None,
    judge: JudgeOption = None,
) -> None:
    """Solvable Win Rate of a candidate against a reference on the queries both answered."""
    from toolsim.evaluator.reports.writers import write_reports
    from toolsim.evaluator.scoring.win_rate import evaluate_win_rate

    report = _judged(out, home, judge, evaluate_win_rate, answers, reference, rounds=rounds)
    written = write_reports(out, win_rate=report)
    print_win_rate(report)
    noise_floor = report.pass_rate.noise_floor
    _footer(report.judge, report.seconds, noise_floor, report.problems, written)


@eval_app.command("agreement")
def agreement(
    labels: Annotated[
        list[Path],
        typer.Option(
            "--labels",
            help="Reference-labelled pass-rate result files: a method folder of "
            "<group>_<method>.json, one file, or a folder of method folders (repeatable; each "
            "folder is one system).",
        ),
    ],
    judge: JudgeOption = None,
    runs: Annotated[int, typer.Option(min=1, help="Judge runs per answer.")] = 1,
    sample: Annotated[
        int | None,
        typer.Option(min=1, help="Judge this many answers, drawn with --seed, instead of all."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of --sample and of the intervals.")] = 0,
    out: OutOption = Path("toolsim-agreement"),
    home: HomeOption = None,
) -> None:
    """How often a judge agrees with reference labels (all answers and answered ones)."""
    from toolsim.evaluator.agreement.measure import evaluate_agreement
    from toolsim.evaluator.agreement.report import write_agreement_reports

    report = _judged(
        out, home, judge, evaluate_agreement, labels, runs=runs, sample=sample, seed=seed
    )
    written = write_agreement_reports(out, report)
    print_agreement(report)
    usage, noise_floor = report.pass_rate.judge, report.pass_rate.noise_floor
    _footer(usage, report.seconds, noise_floor, report.problems, written)


def _agreement_cells(measured: Any) -> list[str]:
    if measured is None or measured.accuracy is None:
        return ["0", "n/a", "n/a"]
    low, high = measured.accuracy_ci or (measured.accuracy, measured.accuracy)
    kappa = "n/a" if measured.kappa is None else f"{measured.kappa:.2f}"
    return [
        str(measured.n),
        f"{100 * measured.accuracy:.1f} [{100 * low:.1f}-{100 * high:.1f}]",
        kappa,
    ]


def print_agreement(report: Any) -> None:
    """The agreement table, the per-system pass rates and the run-to-run agreement."""
    table = report_table(
        "Agreement with the reference majority", "items", ("n", "accuracy %", "kappa")
    )
    table.add_row("all labelled", *_agreement_cells(report.all))
    table.add_row("answered", *_agreement_cells(report.answered))
    if report.unseen_answered is not None and report.counted["seen_in_training"]:
        table.add_row("answered, unseen in training", *_agreement_cells(report.unseen_answered))
    console.print(table)
    excluded = report.excluded
    console.print(
        f"left out: {excluded['reference_no_majority']} with no reference majority, "
        f"{excluded['reference_unsure']} with an Unsure majority; counted as disagreements: "
        f"{report.counted['judge_unsure']} judged Unsure, {report.counted['judge_unscored']} "
        "unscored",
        soft_wrap=True,
    )
    if report.counted["seen_in_training"]:
        console.print(
            styled(
                (
                    f"{report.counted['seen_in_training']} answered items were in the judge's "
                    "training data: agreement on them is not held out (its cross-validated "
                    "figures are printed below)",
                    "yellow",
                )
            ),
            soft_wrap=True,
        )
    systems = report_table("", "system", ("n", "judged %", "reference %"))
    for rate in report.systems:
        judged = "n/a" if rate.judged is None else f"{rate.judged:.1f}"
        reference = "n/a" if rate.reference is None else f"{rate.reference:.1f}"
        systems.add_row(rate.system, str(rate.answers), judged, reference)
    console.print(systems)
    spearman = "n/a" if report.spearman is None else f"{report.spearman:.2f}"
    runs = report.judge_runs["answered"], report.reference_runs["answered"]
    mine, theirs = (
        "n/a" if item["accuracy"] is None else f"{100 * item['accuracy']:.1f}%" for item in runs
    )
    console.print(
        f"Spearman across systems {spearman}; run-to-run agreement on answered items: judge "
        f"{mine}, reference {theirs}",
        soft_wrap=True,
    )
    speed = report.per_second
    if report.sample:
        console.print(f"sample of {report.sample['size']} of {report.sample['of']} answers")
    if speed:
        console.print(f"{speed:,.{0 if speed >= 10 else 2}f} answers judged per second")


# The simulator is scored here too; the command's body is in toolsim/cli/fidelity.py.
eval_app.command("fidelity")(fidelity)

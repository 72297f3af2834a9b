"""Write evaluation reports: JSON, CSV (summary and per query) and the HTML page, atomically."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from toolsim.errors import UserError
from toolsim.evaluator.reports.html import render_html
from toolsim.evaluator.scoring.aggregate import RateSummary
from toolsim.evaluator.scoring.results import PASS_LABELS, WIN_LABELS, PassRateReport, WinRateReport
from toolsim.files import write_files

DEFAULT_OUT = Path("toolsim-eval")


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """Rows as CSV text (Unix line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(rows)
    return buffer.getvalue()


def _rate_cells(summary: RateSummary | None) -> list[Any]:
    if summary is None:
        return ["", "", "", ""]
    low, high = summary.ci if summary.ci else (None, None)
    values = [summary.mean, summary.std, low, high]
    return ["" if value is None else round(value, 4) for value in values]


def pass_rate_rows(report: PassRateReport) -> list[list[Any]]:
    """The summary CSV: one row per answer set and group, plus its average."""
    head = ["label", "system", "group", "queries", "runs", "rate", "std", "ci_low", "ci_high"]
    head += [*PASS_LABELS, "PR", "PBC", "AC", "RFBC"]
    rows: list[list[Any]] = [head]
    for entry in report.entries:
        items = [(g, r.rate, r.counts, r.budget, len(r.outcomes)) for g, r in entry.groups.items()]
        queries = sum(len(r.outcomes) for r in entry.groups.values())
        items.append(("average", entry.overall, entry.counts, entry.budget, queries))
        for group, rate, counts, budget, count in items:
            row = [entry.label, entry.system, group, count, report.runs, *_rate_cells(rate)]
            row += [counts[label] for label in PASS_LABELS]
            if budget is None:
                row += ["", "", "", ""]
            else:
                pbc = budget.pbc.mean if budget.pbc else None
                row += [_round(budget.pr.mean), _round(pbc), _round(budget.ac), _round(budget.rfbc)]
            rows.append(row)
    return rows


def _round(value: float | None) -> Any:
    return "" if value is None else round(value, 4)


def pass_rate_query_rows(report: PassRateReport) -> list[list[Any]]:
    """The per-query CSV: every query's label in every run, with why."""
    head = ["label", "group", "query_id", "run", "status", "by", "reason", "probability"]
    rows: list[list[Any]] = [head]
    for entry in report.entries:
        for group, result in entry.groups.items():
            for qid, outcomes in result.outcomes.items():
                for run, outcome in enumerate(outcomes):
                    rows.append(
                        [
                            entry.label,
                            group,
                            qid,
                            run,
                            outcome.label.value,
                            outcome.by,
                            outcome.reason,
                            "" if outcome.probability is None else round(outcome.probability, 4),
                        ]
                    )
    return rows


def win_rate_rows(report: WinRateReport) -> list[list[Any]]:
    """The summary CSV of a win rate: one row per group, plus the average."""
    head = ["candidate", "reference", "group", "queries", "rounds", "win_rate", "std"]
    rows: list[list[Any]] = [[*head, "ci_low", "ci_high", *WIN_LABELS]]
    items = [(g, r.rate, r.counts, len(r.rounds)) for g, r in report.groups.items()]
    total = sum(len(r.rounds) for r in report.groups.values())
    items.append(("average", report.overall, report.counts, total))
    for group, rate, counts, queries in items:
        row = [report.candidate, report.reference, group, queries, report.rounds]
        rows.append(row + _rate_cells(rate) + [counts[name] for name in WIN_LABELS])
    return rows


def win_rate_query_rows(report: WinRateReport) -> list[list[Any]]:
    """The per-query CSV of a win rate: every round's outcome, with why."""
    rows: list[list[Any]] = [["group", "query_id", "round", "candidate", "by", "reason"]]
    for group, result in report.groups.items():
        for qid, rounds in result.rounds.items():
            for number, item in enumerate(rounds):
                rows.append([group, qid, number, item.preference.value, item.by, item.reason])
    return rows


def prepare_out(out: Path) -> Path:
    """Create the report folder; a clear :class:`UserError` when it cannot be written."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out, prefix=".probe.", delete=True)
        probe.close()
    except OSError as exc:
        raise UserError(f"cannot write reports to {out}: {exc.strerror or exc}") from None
    return out


def write_reports(
    out: Path,
    *,
    pass_rate: PassRateReport | None = None,
    win_rate: WinRateReport | None = None,
    title: str = "toolsim evaluation",
) -> list[Path]:
    """Write the JSON, CSV and HTML files of an evaluation under ``out``; return their paths."""
    out = prepare_out(out)
    files: dict[str, str] = {}
    if pass_rate is not None:
        files["pass_rate.json"] = json.dumps(pass_rate.to_json(), indent=2, ensure_ascii=False)
        files["pass_rate.csv"] = csv_text(pass_rate_rows(pass_rate))
        files["pass_rate_queries.csv"] = csv_text(pass_rate_query_rows(pass_rate))
    if win_rate is not None:
        files["win_rate.json"] = json.dumps(win_rate.to_json(), indent=2, ensure_ascii=False)
        files["win_rate.csv"] = csv_text(win_rate_rows(win_rate))
        files["win_rate_queries.csv"] = csv_text(win_rate_query_rows(win_rate))
    files["report.html"] = render_html(
        [pass_rate] if pass_rate else [], [win_rate] if win_rate else [], title=title
    )
    return write_files(out, files)

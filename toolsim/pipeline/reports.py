"""A bench's files: the evaluations' JSON and CSV, a summary CSV, one comparing HTML page."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolsim.evaluator.reports.html import (
    html_table,
    noise_note,
    number_cell,
    percent_cell,
    render_html,
)
from toolsim.evaluator.reports.writers import (
    csv_text,
    pass_rate_query_rows,
    pass_rate_rows,
    prepare_out,
    win_rate_query_rows,
    win_rate_rows,
)
from toolsim.files import write_text_atomic

if TYPE_CHECKING:
    from toolsim.pipeline.bench import BenchResult

SUMMARY_HEAD = (
    "combination",
    "queries",
    "pass rate (SoPR %)",
    "PBC %",
    "AC",
    "RFBC %",
    "win rate vs first %",
    "model calls",
    "tool calls",
    "solved per tool call",
    "cost per solved query",
    "query seconds",
)


#: The same columns, short enough for a terminal.
SHORT_HEAD = (
    "combination",
    "n",
    "SoPR%",
    "PBC%",
    "AC",
    "RFBC%",
    "win%",
    "LLM",
    "tools",
    "sol/call",
    "cost/sol",
    "sec",
)


def summary_cells(result: BenchResult) -> list[list[Any]]:
    """The summary's rows as plain values (for CSV and the terminal)."""
    rows = []
    for row in result.summary_rows():
        budget = row["budget"] or {}
        pbc = (budget.get("PBC") or {}).get("mean")
        win = (row["win_rate"] or {}).get("mean")
        rows.append(
            [
                row["combination"],
                row["queries"],
                row["pass_rate"]["mean"],
                pbc,
                budget.get("AC"),
                budget.get("RFBC"),
                win,
                row["model_calls"],
                row["tool_calls"],
                row["tool_productivity"],
                row["cost_per_solved"],
                row["query_seconds"],
            ]
        )
    return rows


def _summary_html(result: BenchResult) -> str:
    wins = {report.candidate: report for report in result.win_rates}
    totals_of = {row["combination"]: row for row in result.summary_rows()}
    rows = []
    for combination in result.combinations:
        entry = result.pass_rate.entry(combination.label)
        budget = entry.budget
        win = wins.get(combination.label)
        totals = totals_of[combination.label]
        rows.append(
            [
                escape(combination.label),
                str(totals["queries"]),
                percent_cell(entry.overall),
                percent_cell(budget.pbc if budget else None, interval=False),
                number_cell(budget.ac if budget else None),
                number_cell(budget.rfbc if budget else None),
                percent_cell(win.overall, interval=False) if win else "reference",
                str(totals["model_calls"]),
                str(totals["tool_calls"]),
                number_cell(totals["tool_productivity"], 3),
                number_cell(totals["cost_per_solved"]),
                f"{totals['query_seconds']:.0f}",
            ]
        )
    first = escape(result.combinations[0].label)
    return (
        "<h2>Summary</h2><p>Every agent x planner combination over the same queries. "
        f"Win rates compare each combination with the first ({first}). Solved per tool call "
        "(tool productivity) and cost per solved query count an Unsure verdict as half a "
        "solved query, averaged over judge runs. "
        f"{escape(noise_note(result.pass_rate))} Run folders are "
        f"under <code>{escape(str(result.out))}/runs/</code>.</p>"
        + html_table(list(SUMMARY_HEAD), rows, "summary")
        + _world_html(result)
        + _faults_html(result)
    )


def _faults_html(result: BenchResult) -> str:
    """With a fault profile: which one, and how many tool calls of each combination it failed."""
    if result.faults is None:
        return ""
    totals = {row["combination"]: row for row in result.summary_rows()}
    items = "".join(
        f"<li>{escape(label)}: {row['tool_faults']} of {row['tool_calls']} tool calls</li>"
        for label, row in totals.items()
    )
    profile = result.faults
    return (
        f'<p class="faults">Injected tool faults (profile <code>{escape(profile["profile"])}'
        f"</code>, sha256 {escape(profile['sha256'][:12])}, seed {profile['seed']}):</p>"
        f"<ul>{items}</ul>"
    )


def _world_html(result: BenchResult) -> str:
    """The world consistency line: facts the agents saw twice, and how many agreed."""
    if not result.world:
        return ""
    items = "".join(
        f"<li>{escape(label)}: {escape(report.line())}</li>"
        for label, report in result.world.items()
    )
    head = '<p class="world">World consistency (<code>toolsim world check</code>):</p>'
    return f"{head}<ul>{items}</ul>"


def write_bench_reports(result: BenchResult) -> list[Path]:
    """Write every report file under ``result.out``; return their paths."""
    out = prepare_out(result.out)
    files: dict[str, str] = {
        "summary.csv": csv_text([list(SUMMARY_HEAD), *summary_cells(result)]),
        "pass_rate.json": json.dumps(result.pass_rate.to_json(), indent=2, ensure_ascii=False),
        "pass_rate.csv": csv_text(pass_rate_rows(result.pass_rate)),
        "pass_rate_queries.csv": csv_text(pass_rate_query_rows(result.pass_rate)),
    }
    if result.win_rates:
        files["win_rate.json"] = json.dumps(
            [report.to_json() for report in result.win_rates], indent=2, ensure_ascii=False
        )
        first = result.win_rates[0]
        summary = win_rate_rows(first)[:1]  # the header, once
        queries = [["candidate", *win_rate_query_rows(first)[0]]]
        for report in result.win_rates:
            summary += win_rate_rows(report)[1:]
            queries += [[report.candidate, *row] for row in win_rate_query_rows(report)[1:]]
        files["win_rate.csv"] = csv_text(summary)
        files["win_rate_queries.csv"] = csv_text(queries)
    files["report.html"] = render_html(
        [result.pass_rate],
        result.win_rates,
        title="toolsim bench",
        preface=_summary_html(result),
    )
    written = []
    for name, text in files.items():
        write_text_atomic(out / name, text)
        written.append(out / name)
    return written

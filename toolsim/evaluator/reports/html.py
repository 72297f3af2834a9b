"""One self-contained HTML report (inline CSS and SVG, no scripts) for any number of evaluations.

:func:`render_html` takes several pass-rate and win-rate reports, so one page can
compare many agent x planner combinations: every entry of every pass-rate report
becomes a row and a bar series.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from toolsim import __version__
from toolsim.evaluator.reports.svg import Bar, bar_chart, scatter, stacked_bars
from toolsim.evaluator.scoring.aggregate import RateSummary
from toolsim.evaluator.scoring.results import (
    PASS_LABELS,
    EntryResult,
    JudgeUsage,
    PassRateReport,
    WinRateReport,
)

OUTCOME_COLORS = {"win": "#2e9e6b", "tie": "#e0b030", "loss": "#c0392b"}
CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:980px;color:#222;padding:0 12px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}
h3{font-size:15px}table{border-collapse:collapse;margin:8px 0 16px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}th{background:#f4f6f8}
td:first-child,th:first-child{text-align:left}.muted{color:#777}
.chart text{font:11px system-ui,sans-serif;fill:#333}.chart .grid{stroke:#eee}
.chart .whisker{stroke:#222;stroke-width:1.2;fill:none}
.Solved{background:#e3f4e8}.Unsolved{background:#fbe4e4}.Unsure{background:#fff5d6}
.unscored{background:#eee}.win{background:#e3f4e8}.loss{background:#fbe4e4}.tie{background:#fff5d6}
details{margin:6px 0}summary{cursor:pointer}ul.problems li{color:#a33}
"""


def percent_cell(summary: RateSummary | None, *, interval: bool = True) -> str:
    """A rate as "mean ± std [low, high]" (or a muted n/a)."""
    if summary is None or summary.mean is None:
        return '<span class="muted">n/a</span>'
    text = f"{summary.mean:.1f}"
    if summary.std is not None:
        text += f" &plusmn; {summary.std:.1f}"
    if interval and summary.ci is not None:
        text += f' <span class="muted">[{summary.ci[0]:.1f}, {summary.ci[1]:.1f}]</span>'
    return text


def number_cell(value: float | None, digits: int = 1) -> str:
    """A number with ``digits`` decimals (or a muted n/a)."""
    return '<span class="muted">n/a</span>' if value is None else f"{value:.{digits}f}"


def html_table(head: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    """A table: ``head`` is escaped here, cells are trusted HTML."""
    header = "".join(f"<th>{escape(cell)}</th>" for cell in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>'


def _bar(summary: RateSummary | None) -> Bar:
    if summary is None or summary.mean is None:
        return Bar(None)
    low, high = summary.ci if summary.ci else (None, None)
    return Bar(summary.mean, low, high)


def _judge(usage: JudgeUsage) -> str:
    text = (
        f"judge <b>{escape(usage.model)}</b>: {usage.requests} requests, "
        f"{usage.calls} model calls made, {usage.cached} answered from the cache, "
        f"{usage.failed} failed"
    )
    if usage.identity is not None:
        text += f'<br><span class="muted">{escape(usage.identity.describe())}</span>'
    return text


def noise_note(report: PassRateReport) -> str:
    """The report's noise floor as a sentence ("" when there is none)."""
    if report.noise_floor is None:
        return ""
    return (
        f"Differences under {report.noise_floor:.1f} points between two systems are noise at "
        "this n (95% bootstrap)."
    )


def _pass_section(entries: Sequence[EntryResult], reports: Sequence[PassRateReport]) -> str:
    groups = sorted({g for entry in entries for g in entry.groups})
    runs = sorted({report.runs for report in reports})
    parts = [
        "<h2>Solvable Pass Rate</h2>",
        "<p>" + "<br>".join(_judge(report.judge) for report in reports) + "</p>",
        "<p><b>" + " ".join(noise_note(report) for report in reports) + "</b></p>",
        f"<p class=muted>Percent, mean &plusmn; standard deviation over {'/'.join(map(str, runs))}"
        " judge runs, [95% bootstrap interval]. Solved 1, Unsure 0.5, Unsolved 0; unscored "
        "verdicts are excluded.</p>",
    ]
    head = ["answers", "average", *groups, *(label for label in PASS_LABELS)]
    rows = []
    for entry in entries:
        cells = [escape(entry.label), percent_cell(entry.overall)]
        cells += [percent_cell(entry.groups[g].rate) if g in entry.groups else "" for g in groups]
        cells += [str(entry.counts[label]) for label in PASS_LABELS]
        rows.append(cells)
    parts.append(html_table(head, rows, "pass-rate"))
    series = [
        (
            entry.label,
            [_bar(entry.overall)]
            + [_bar(entry.groups[g].rate if g in entry.groups else None) for g in groups],
        )
        for entry in entries
    ]
    parts.append(bar_chart(["average", *groups], series, label="pass rate per group"))
    parts.append(_budget_section(entries))
    for report in reports:
        parts.append(_pass_k(report))
    parts.append(_pass_details(entries))
    return "".join(parts)


def _budget_section(entries: Sequence[EntryResult]) -> str:
    budgeted = [entry for entry in entries if entry.budget is not None]
    if not budgeted:
        return ""
    rows = []
    points = []
    for index, entry in enumerate(budgeted):
        metrics = entry.budget
        assert metrics is not None
        rows.append(
            [
                escape(entry.label),
                number_cell(metrics.budget, 0) if metrics.budget is not None else "none or mixed",
                str(metrics.queries),
                percent_cell(metrics.pbc),
                percent_cell(metrics.pr),
                number_cell(metrics.ac, 2),
                number_cell(metrics.rfbc),
            ]
        )
        if metrics.ac is not None and metrics.pr.mean is not None:
            points.append((f"{entry.label} PR", metrics.ac, metrics.pr.mean, index))
            if metrics.pbc is not None and metrics.pbc.mean is not None:
                points.append((f"{entry.label} PBC", metrics.ac, metrics.pbc.mean, index))
    head = ["answers", "budget", "queries", "PBC", "PR", "AC", "RFBC"]
    chart = scatter(points, x_label="average cost (AC)", y_label="pass rate %", label="cost")
    return (
        "<h3>Budget</h3><p class=muted>PBC: pass rate counting only queries within budget; "
        "PR: pass rate ignoring budget; AC: average cost per query; RFBC: % of queries over "
        "budget or stopped by it.</p>" + html_table(head, rows, "budget") + chart
    )


def _pass_k(report: PassRateReport) -> str:
    parts = []
    for item in report.pass_k:
        groups = sorted({g for values in item.values.values() for g in values} - {"overall"})
        rows = [
            [f"pass^{k}", number_cell(values.get("overall"))]
            + [number_cell(values.get(g)) for g in groups]
            for k, values in item.values.items()
        ]
        parts.append(
            f"<h3>pass^k: {escape(item.system)}</h3><p class=muted>{len(item.labels)} runs: "
            f"{escape(', '.join(item.labels))}; a trial passes when Solved.</p>"
            + html_table(["k", "average", *groups], rows, "pass-k")
        )
    return "".join(parts)


def _pass_details(entries: Sequence[EntryResult]) -> str:
    parts = ["<h3>Per query</h3>"]
    for entry in entries:
        for group, result in entry.groups.items():
            rows = []
            for qid, outcomes in result.outcomes.items():
                cells = [escape(qid)]
                for outcome in outcomes:
                    tip = escape(f"{outcome.by}: {outcome.reason}", quote=True)
                    cells.append(
                        f'<span class="{outcome.label.value}" title="{tip}">'
                        f"{outcome.label.value}</span>"
                    )
                rows.append(cells)
            head = ["query", *(f"run {n + 1}" for n in range(len(rows[0]) - 1 if rows else 0))]
            parts.append(
                f"<details><summary>{escape(entry.label)} / {escape(group)} "
                f"({len(rows)} queries)</summary>{html_table(head, rows, 'queries')}</details>"
            )
    return "".join(parts)


def _win_section(report: WinRateReport) -> str:
    groups = sorted(report.groups)
    head = ["group", "win rate", "win", "loss", "tie", "unscored"]
    rows = [
        [
            escape(g),
            percent_cell(report.groups[g].rate),
            *(str(report.groups[g].counts[n]) for n in ("win", "loss", "tie", "unscored")),
        ]
        for g in groups
    ]
    rows.append(
        ["<b>average</b>", percent_cell(report.overall)]
        + [str(report.counts[n]) for n in ("win", "loss", "tie", "unscored")]
    )
    stacks = []
    for name, counts in [(g, report.groups[g].counts) for g in groups] + [("all", report.counts)]:
        total = sum(counts.values()) or 1
        stacks.append((name, [(k, 100 * counts[k] / total) for k in ("win", "tie", "loss")]))
    return (
        f"<h2>Solvable Win Rate: {escape(report.candidate)} vs {escape(report.reference)}</h2>"
        f"<p>{_judge(report.judge)}; {report.rounds} rounds. Ties count as non-wins; "
        "unscored rounds are excluded.</p>"
        + html_table(head, rows, "win-rate")
        + stacked_bars(stacks, label="wins, ties and losses", colors=OUTCOME_COLORS)
    )


def render_html(
    pass_rates: Sequence[PassRateReport] = (),
    win_rates: Sequence[WinRateReport] = (),
    *,
    title: str = "toolsim evaluation",
    preface: str = "",
) -> str:
    """The report page for any mix of pass-rate and win-rate evaluations.

    ``preface`` is trusted HTML placed under the title (e.g. a bench's summary table).
    """
    entries = [entry for report in pass_rates for entry in report.entries]
    problems = [
        *(p for r in pass_rates for p in r.problems),
        *(p for r in win_rates for p in r.problems),
    ]
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        f"</title><style>{CSS}</style></head><body><h1>{escape(title)}</h1>"
        f"<p class=muted>toolsim {__version__}, {created}</p>",
        preface,
    ]
    if entries:
        parts.append(_pass_section(entries, pass_rates))
    for report in win_rates:
        parts.append(_win_section(report))
        parts.append(_pass_section(report.pass_rate.entries, [report.pass_rate]))
    if problems:
        items = "".join(f"<li>{escape(problem)}</li>" for problem in problems)
        parts.append(f'<h2>Problems</h2><ul class="problems">{items}</ul>')
    parts.append("</body></html>")
    return "".join(parts)

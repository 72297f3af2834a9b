"""One self-contained HTML report (inline CSS and SVG, no scripts) for any number of evaluations.

:func:`render_html` takes several pass-rate and win-rate reports, so one page can
compare many agent x planner combinations: every entry of every pass-rate report
becomes a row and a bar series.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from toolsim import __version__
from toolsim.evaluator.judging.base import resolution_note
from toolsim.evaluator.reports.svg import Bar, Point, bar_chart, scatter, stacked_bars
from toolsim.evaluator.scoring.aggregate import RateSummary
from toolsim.evaluator.scoring.results import (
    PASS_LABELS,
    EntryResult,
    GroupResult,
    JudgeUsage,
    PassRateReport,
    QueryView,
    WinRateReport,
)
from toolsim.llm.model_files import MODEL_NAME

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
.banner{background:#fff3cd;border:1px solid #e0c060;padding:8px 12px;border-radius:4px}
.query{margin:4px 0 4px 16px}.query dl{margin:4px 0}.query dt{font-weight:600}
.query dd{margin:0 0 6px 12px;white-space:pre-wrap;word-break:break-word}
table.setup td,table.setup th{text-align:left;font-size:13px}
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
    """The report's noise floor and, when it compares systems, the judge's resolution and
    the pairs it does not resolve, as plain-text sentences ("" when there is nothing to
    say; the caller escapes it)."""
    parts = []
    if report.noise_floor is not None:
        parts.append(
            f"Differences under {report.noise_floor:.1f} points between two systems are noise "
            "at this n (95% bootstrap)."
        )
    if len(report.entries) > 1:
        note = resolution_note(report.resolution)
        parts.append(note[:1].upper() + note[1:] + ".")
        parts.extend(
            f"{first} vs {second}: {difference:.1f} points, not resolved by this judge."
            for first, second, difference in report.unresolved()
        )
    return " ".join(parts)


def _pass_section(entries: Sequence[EntryResult], reports: Sequence[PassRateReport]) -> str:
    groups = sorted({g for entry in entries for g in entry.groups})
    runs = sorted({report.runs for report in reports})
    parts = [
        "<h2>Solvable Pass Rate</h2>",
        "<p><b>"
        + escape(" ".join(dict.fromkeys(noise_note(report) for report in reports)))
        + "</b></p>",
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
    parts.append(_pass_k(reports))
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
            points.append(Point(f"{entry.label} PR", metrics.ac, metrics.pr.mean, index))
            if metrics.pbc is not None and metrics.pbc.mean is not None:
                pbc = Point(f"{entry.label} PBC", metrics.ac, metrics.pbc.mean, index, hollow=True)
                points.append(pbc)
    head = ["answers", "budget", "queries", "PBC", "PR", "AC", "RFBC"]
    chart = scatter(
        points,
        [entry.label for entry in budgeted],
        x_label="average cost (AC)",
        y_label="pass rate %",
        label="cost",
        markers=("PR (filled)", "PBC (ring)"),
    )
    return (
        "<h3>Budget</h3><p class=muted>PBC: pass rate counting only queries within budget; "
        "PR: pass rate ignoring budget; AC: average cost per query; RFBC: % of queries over "
        "budget or stopped by it.</p>" + html_table(head, rows, "budget") + chart
    )


def _pass_k(reports: Sequence[PassRateReport]) -> str:
    parts = []
    items = {(item.system, item.labels): item for report in reports for item in report.pass_k}
    for item in items.values():
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
    parts = [
        "<h3>Per query</h3><p class=muted>Each query: what was asked, the final answer, the "
        "verdict of every judge run with its reason, and the tool calls made.</p>"
    ]
    for entry in entries:
        for group, result in entry.groups.items():
            queries = "".join(_query_panel(qid, result) for qid in result.outcomes)
            parts.append(
                f"<details><summary>{escape(entry.label)} / {escape(group)} "
                f"({len(result.outcomes)} queries)</summary>{queries}</details>"
            )
    return "".join(parts)


def _query_panel(qid: str, result: GroupResult) -> str:
    """One query, collapsed to a line of verdicts; opened: question, answer, reasons, calls."""
    outcomes = result.outcomes[qid]
    view = result.views.get(qid) or QueryView("", "", "")
    labels = " ".join(
        f'<span class="{outcome.label.value}">{outcome.label.value}</span>' for outcome in outcomes
    )
    asked = view.query if len(view.query) <= 90 else view.query[:87] + "..."
    verdicts = "".join(
        f'<li>run {n + 1}: <span class="{o.label.value}">{o.label.value}</span> '
        f"({escape(o.by)}) {escape(o.reason)}</li>"
        for n, o in enumerate(outcomes)
    )
    fields = [
        ("Query", escape(view.query) or '<span class="muted">not in the answer file</span>'),
        ("Final answer", escape(view.final_answer) or '<span class="muted">none</span>'),
        ("Status", escape(view.status)),
        ("Verdicts", f"<ul>{verdicts}</ul>"),
    ]
    evidence = _evidence(result, qid)
    if evidence:
        fields.append(("Evidence", evidence))
    calls = "".join(
        f"<li><code>{escape(function)}({escape(arguments)})</code>"
        + (f' <span class="Unsolved">{escape(error)}</span>' if error else "")
        + "</li>"
        for function, arguments, error in view.calls
    )
    fields.append(
        (f"Calls ({len(view.calls)})", f"<ol>{calls}</ol>" if calls else "none"),
    )
    body = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in fields)
    return (
        f'<details class="query"><summary>{escape(qid)} {labels} '
        f'<span class="muted">{escape(asked)}</span></summary><dl>{body}</dl></details>'
    )


def _evidence(result: GroupResult, qid: str) -> str:
    """A query's grounding evidence, when the evaluation recorded any (any form: a summary
    method, text, or JSON data)."""
    found = getattr(result, "evidence", {}).get(qid)
    if found is None:
        return ""
    summary = getattr(found, "summary", None)
    if callable(summary):
        return escape(str(summary()))
    if isinstance(found, str):
        return escape(found)
    return f"<code>{escape(json.dumps(found, default=str, ensure_ascii=False))}</code>"


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
        f"<p>{report.rounds} rounds (judge: see Setup). Ties count as non-wins; "
        "unscored rounds are excluded.</p>"
        + html_table(head, rows, "win-rate")
        + stacked_bars(stacks, label="wins, ties and losses", colors=OUTCOME_COLORS)
    )


def _setup_section(entries: Sequence[EntryResult], judges: Sequence[JudgeUsage]) -> str:
    """What produced the numbers below: models, prompts, judge, budget and limits."""
    rows = [[escape(entry.label), *_setup_cells(entry.setup)] for entry in entries]
    head = ["answers", "agent", "agent model", "prompts", "planner", "budget", "limits"]
    head.append("tool replies")
    judged = "".join(f"<li>{_judge(usage)}</li>" for usage in judges)
    return (
        "<h2>Setup</h2><p class=muted>How each set of answers was made (from its run folder's "
        "<code>run.json</code>; answer files from elsewhere say nothing of it) and who "
        "judged them.</p>" + html_table(head, rows, "setup") + f"<ul>{judged}</ul>"
    )


def _setup_cells(setup: dict[str, Any]) -> list[str]:
    if not setup:
        return ['<span class="muted">unknown</span>'] * 7
    limits = setup.get("limits") or {}
    simulator = setup.get("simulator") or {}
    prompts = [f"agent {setup['prompt_hash']}"] if setup.get("prompt_hash") else []
    if simulator.get("prompt_hash"):
        prompts.append(f"simulator {simulator['prompt_hash']}")
    budget = "none" if setup.get("budget") is None else str(setup["budget"])
    if setup.get("costs"):
        costs = {k: v for k, v in setup["costs"].items() if k != "prices"}
        budget += f" <span class=muted>costs {escape(json.dumps(costs))}</span>"
    shown = ", ".join(
        f"{name.replace('_', ' ')} {value}"
        for name, value in limits.items()
        if name in ("max_steps", "max_model_calls", "width")
    )
    return [
        f"{escape(str(setup.get('agent', '?')))} ({escape(str(setup.get('method', '?')))})",
        escape(str(setup.get("agent_model") or "?")),
        escape(", ".join(prompts)) or '<span class="muted">not recorded</span>',
        escape(str(setup.get("planner") or "none")),
        budget,
        escape(shown),
        escape(_simulator_text(simulator)),
    ]


def _simulator_text(simulator: dict[str, Any]) -> str:
    if not simulator:
        return "not recorded"
    if "server" in simulator:
        return f"the server at {simulator['server']}"
    text = str(simulator.get("backend", "?"))
    if simulator.get("model"):
        text += f": {simulator['model']}"
    if simulator.get("endpoint"):
        text += f" at {simulator['endpoint']}"
    return text


def toy_roles(entries: Sequence[EntryResult], judges: Sequence[JudgeUsage]) -> list[str]:
    """The roles the embedded toy model played for these numbers (agent, simulator, judge)."""
    roles = []
    if any(entry.setup.get("agent_model") == MODEL_NAME for entry in entries):
        roles.append("agent")
    if any((entry.setup.get("simulator") or {}).get("embedded") for entry in entries):
        roles.append("simulator")
    if any(usage.identity is not None and usage.identity.backend == "local" for usage in judges):
        roles.append("judge")
    return roles


def _toy_banner(roles: Sequence[str]) -> str:
    if not roles:
        return ""
    return (
        f'<p class="banner"><b>The embedded toy model ({escape(MODEL_NAME)}, 135M parameters) '
        f"played the {escape(' and the '.join(roles))}.</b> It shows the pipeline working end "
        "to end on a laptop; these numbers say nothing about how good the methods are. Point "
        "every role at a real model for numbers worth reading.</p>"
    )


def _listed(title: str, note: str, items: Sequence[str]) -> str:
    if not items:
        return ""
    lines = "".join(f"<li>{escape(item)}</li>" for item in items)
    return f'<h2>{title}</h2><p class="problems">{note}</p><ul class="problems">{lines}</ul>'


def render_html(
    pass_rates: Sequence[PassRateReport] = (),
    win_rates: Sequence[WinRateReport] = (),
    *,
    title: str = "toolsim evaluation",
    preface: str = "",
) -> str:
    """The report page for any mix of pass-rate and win-rate evaluations.

    It stands alone: what produced the numbers (models, prompts' hashes, the judge and
    its measured agreement, budget and limits) comes first, then what was left out
    (infrastructure failures, skipped files), ``preface`` (trusted HTML, e.g. a bench's
    summary table), one pass-rate section for every answer set (the win rates' own
    pass rates included, each set once), the win rates, and per query what was asked,
    answered, judged and called.
    """
    reports = [*pass_rates, *(report.pass_rate for report in win_rates)]
    entries: list[EntryResult] = []
    shown: set[str] = set()
    for report in reports:
        for entry in report.entries:
            if entry.label not in shown:
                shown.add(entry.label)
                entries.append(entry)
    judges = list(
        {
            (usage.identity.describe() if usage.identity else usage.model): usage
            for usage in [*(r.judge for r in pass_rates), *(r.judge for r in win_rates)]
        }.values()
    )
    evaluations: list[PassRateReport | WinRateReport] = [*pass_rates, *win_rates]
    problems = list(dict.fromkeys(p for r in evaluations for p in r.problems))
    skipped = list(dict.fromkeys(f for r in evaluations for f in r.skipped_files))
    failures = list(dict.fromkeys(f for r in reports for f in r.infrastructure_failures))
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        f"</title><style>{CSS}</style></head><body><h1>{escape(title)}</h1>"
        f"<p class=muted>toolsim {__version__}, {created}</p>",
        _toy_banner(toy_roles(entries, judges)),
        _setup_section(entries, judges),
        _listed(
            "Infrastructure failures",
            f"{len(failures)} queries ended because the world did not answer (a simulator, "
            "model or store), not because of the agent: they are unscored, left out of every "
            "rate below.",
            failures,
        ),
        _listed(
            "Skipped files",
            f"{len(skipped)} damaged input file(s) were left out (--skip-bad-files): the "
            "numbers below do not count them.",
            skipped,
        ),
        preface,
    ]
    if entries:
        parts.append(_pass_section(entries, reports))
    parts.extend(_win_section(win) for win in win_rates)
    parts.append(_listed("Problems", "", problems))
    parts.append("</body></html>")
    return "".join(parts)

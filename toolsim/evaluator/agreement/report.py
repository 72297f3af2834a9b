"""The files of ``toolsim eval agreement``: JSON, CSV (systems and items) and the HTML page."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from toolsim.evaluator.agreement.measure import AgreementReport
from toolsim.evaluator.reports.html import html_table, number_cell, render_html
from toolsim.evaluator.reports.svg import scatter
from toolsim.evaluator.reports.writers import csv_text, prepare_out
from toolsim.evaluator.statistics import Agreement
from toolsim.files import write_files

LABEL_ORDER = ("Solved", "Unsolved", "Unsure", "unscored", "no majority")


def item_rows(report: AgreementReport) -> list[list[Any]]:
    """One row per labelled answer: both judges' labels, whether they agree, and why."""
    head = ["system", "group", "query_id", "answered", "reference_runs", "reference"]
    head += ["judge_runs", "judge", "agree", "by", "probability", "seen_in_training"]
    rows: list[list[Any]] = [head]
    for item in report.items:
        reference = item.reference_label
        compared = reference in ("Solved", "Unsolved")
        rows.append(
            [
                item.system,
                item.group,
                item.query_id,
                int(item.answered),
                "|".join(item.reference),
                reference or "no majority",
                "|".join(item.judged),
                item.judged_label,
                int(item.judged_label == reference) if compared else "",
                item.by,
                "" if item.probability is None else round(item.probability, 4),
                int(item.seen),
            ]
        )
    return rows


def system_rows(report: AgreementReport) -> list[list[Any]]:
    """One row per system: pass rate judged and by the reference."""
    rows: list[list[Any]] = [["system", "answers", "judged_pass_rate", "reference_pass_rate"]]
    for rate in report.systems:
        judged = "" if rate.judged is None else round(rate.judged, 2)
        reference = "" if rate.reference is None else round(rate.reference, 2)
        rows.append([rate.system, rate.answers, judged, reference])
    return rows


def _percent(value: float | None, interval: tuple[float, float] | None = None) -> str:
    if value is None:
        return '<span class="muted">n/a</span>'
    text = f"{100 * value:.1f}%"
    if interval is not None:
        text += f' <span class="muted">[{100 * interval[0]:.1f}, {100 * interval[1]:.1f}]</span>'
    return text


def _kappa(value: float | None, interval: tuple[float, float] | None = None) -> str:
    if value is None:
        return '<span class="muted">n/a</span>'
    text = f"{value:.2f}"
    if interval is not None:
        text += f' <span class="muted">[{interval[0]:.2f}, {interval[1]:.2f}]</span>'
    return text


def _headline(report: AgreementReport) -> str:
    rows = []
    parts: list[tuple[str, Agreement | None]] = [
        ("all labelled answers", report.all),
        ("answered (reached a final answer)", report.answered),
    ]
    if report.unseen_answered is not None:
        parts.append(("answered, not in the judge's training data", report.unseen_answered))
    for title, measured in parts:
        if measured is None:
            continue
        rows.append(
            [
                escape(title),
                str(measured.n),
                _percent(measured.accuracy, measured.accuracy_ci),
                _kappa(measured.kappa, measured.kappa_ci),
            ]
        )
    return html_table(["items", "n", "accuracy [95% CI]", "Cohen's kappa [95% CI]"], rows)


def _confusion(measured: Agreement) -> str:
    references = [label for label in LABEL_ORDER if label in measured.confusion]
    judged = sorted(
        {label for row in measured.confusion.values() for label in row},
        key=lambda label: LABEL_ORDER.index(label) if label in LABEL_ORDER else 99,
    )
    rows = [
        [escape(ref), *(str(measured.confusion[ref].get(label, 0)) for label in judged)]
        for ref in references
    ]
    head = ["reference \\ judge", *judged]
    return html_table(head, rows, "confusion")


def _runs(report: AgreementReport) -> str:
    rows = []
    for who, runs in (("judge", report.judge_runs), ("reference", report.reference_runs)):
        for part in ("all", "answered"):
            measured = runs[part]
            rows.append(
                [
                    f"{who}, {part}",
                    str(measured["pairs"]),
                    _percent(measured["accuracy"]),
                    _kappa(measured["kappa"]),
                ]
            )
    return html_table(["run pairs", "pairs", "agreement", "kappa"], rows)


def agreement_html(report: AgreementReport) -> str:
    """The agreement section of the page (trusted HTML)."""
    identity = report.judge.get("identity") or {}
    sample = report.sample
    parts = [
        "<h2>Agreement with the reference labels</h2>",
        f"<p>judge <b>{escape(str(identity.get('backend', report.judge['name'])))}</b> "
        f"{escape(str(identity.get('model', '')))} ({escape(str(identity.get('fingerprint', '')))})"
        f"; {report.runs} run(s); against the reference's majority label.</p>",
    ]
    if identity.get("measured_agreement"):
        parts.append(f"<p>measured before: {escape(identity['measured_agreement'])}</p>")
    if sample:
        parts.append(
            f"<p>seeded sample: {sample['size']} of {sample['of']} answers (seed "
            f"{sample['seed']}).</p>"
        )
    seen = report.counted.get("seen_in_training", 0)
    if seen:
        parts.append(
            f'<p class="problems">{seen} answered items were in this judge\'s training data: '
            "agreement on them is not a held-out measure (see the cross-validated figures "
            "above and the row without them).</p>"
        )
    parts.append(_headline(report))
    parts.append(
        f"<p class=muted>Left out: {report.excluded['reference_no_majority']} items whose "
        f"reference runs have no majority, {report.excluded['reference_unsure']} whose majority "
        f"is Unsure. Counted as disagreements: {report.counted['judge_unsure']} judged Unsure, "
        f"{report.counted['judge_unscored']} unscored.</p>"
    )
    parts.append("<h3>Confusion (answered items)</h3>" + _confusion(report.answered))
    rows = [
        [
            escape(rate.system),
            str(rate.answers),
            number_cell(rate.judged),
            number_cell(rate.reference),
        ]
        for rate in report.systems
    ]
    spearman = "n/a" if report.spearman is None else f"{report.spearman:.2f}"
    parts.append(
        f"<h3>Pass rate per system</h3><p>Spearman's rank correlation across systems: "
        f"<b>{spearman}</b></p>"
        + html_table(["system", "answers", "judged %", "reference %"], rows)
    )
    points = [
        (rate.system, rate.reference, rate.judged, index)
        for index, rate in enumerate(report.systems)
        if rate.judged is not None and rate.reference is not None
    ]
    if points:
        parts.append(
            scatter(points, x_label="reference pass rate %", y_label="judged %", label="systems")
        )
    parts.append("<h3>Run-to-run agreement</h3>" + _runs(report))
    speed = report.per_second
    floor = report.pass_rate.noise_floor
    parts.append(
        f"<p>{len(report.items) * report.runs} verdicts in {report.seconds:.1f} s"
        + (f" ({speed:,.{0 if speed >= 10 else 2}f} answers per second)" if speed else "")
        + (f"; differences under {floor:.1f} points are noise at this n" if floor else "")
        + ".</p>"
    )
    return "".join(parts)


def write_agreement_reports(out: Path, report: AgreementReport) -> list[Path]:
    """Write ``agreement.json``, ``agreement.csv``, ``agreement_items.csv`` and ``report.html``."""
    out = prepare_out(out)
    files = {
        "agreement.json": json.dumps(report.to_json(), indent=2, ensure_ascii=False),
        "agreement.csv": csv_text(system_rows(report)),
        "agreement_items.csv": csv_text(item_rows(report)),
        "report.html": render_html(
            [report.pass_rate], title="toolsim judge agreement", preface=agreement_html(report)
        ),
    }
    return write_files(out, files)

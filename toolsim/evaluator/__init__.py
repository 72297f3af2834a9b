"""Scoring agents' answers: Solvable Pass Rate, Solvable Win Rate, budget metrics, reports.

Names are imported on first use (PEP 562), so ``toolsim --help`` does not pay for
the LLM client stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolsim.exports import lazy_exports

_EXPORTS = {
    "evaluate_pass_rate": "toolsim.evaluator.pass_rate",
    "evaluate_pass_rate_async": "toolsim.evaluator.pass_rate",
    "evaluate_win_rate": "toolsim.evaluator.win_rate",
    "evaluate_win_rate_async": "toolsim.evaluator.win_rate",
    "Judge": "toolsim.evaluator.judges",
    "JudgeOptions": "toolsim.evaluator.judge",
    "Label": "toolsim.evaluator.labels",
    "Preference": "toolsim.evaluator.labels",
    "Verdict": "toolsim.evaluator.labels",
    "RateSummary": "toolsim.evaluator.aggregate",
    "summarize": "toolsim.evaluator.aggregate",
    "BudgetMetrics": "toolsim.evaluator.budget_metrics",
    "PassRateReport": "toolsim.evaluator.results",
    "WinRateReport": "toolsim.evaluator.results",
    "EntryResult": "toolsim.evaluator.results",
    "render_html": "toolsim.evaluator.html",
    "write_reports": "toolsim.evaluator.writers",
}

__all__ = [
    "BudgetMetrics",
    "EntryResult",
    "Judge",
    "JudgeOptions",
    "Label",
    "PassRateReport",
    "Preference",
    "RateSummary",
    "Verdict",
    "WinRateReport",
    "evaluate_pass_rate",
    "evaluate_pass_rate_async",
    "evaluate_win_rate",
    "evaluate_win_rate_async",
    "render_html",
    "summarize",
    "write_reports",
]

if TYPE_CHECKING:
    from toolsim.evaluator.aggregate import RateSummary, summarize
    from toolsim.evaluator.budget_metrics import BudgetMetrics
    from toolsim.evaluator.html import render_html
    from toolsim.evaluator.judge import JudgeOptions
    from toolsim.evaluator.judges import Judge
    from toolsim.evaluator.labels import Label, Preference, Verdict
    from toolsim.evaluator.pass_rate import evaluate_pass_rate, evaluate_pass_rate_async
    from toolsim.evaluator.results import EntryResult, PassRateReport, WinRateReport
    from toolsim.evaluator.win_rate import evaluate_win_rate, evaluate_win_rate_async
    from toolsim.evaluator.writers import write_reports


__getattr__ = lazy_exports(__name__, _EXPORTS)

"""Scoring agents' answers: Solvable Pass Rate, Solvable Win Rate, budget metrics, reports.

Names are imported on first use (PEP 562), so ``toolsim --help`` does not pay for
the LLM client stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolsim.exports import lazy_exports

_EXPORTS = {
    "evaluate_pass_rate": "toolsim.evaluator.scoring.pass_rate",
    "evaluate_pass_rate_async": "toolsim.evaluator.scoring.pass_rate",
    "evaluate_win_rate": "toolsim.evaluator.scoring.win_rate",
    "evaluate_win_rate_async": "toolsim.evaluator.scoring.win_rate",
    "Judge": "toolsim.evaluator.judging.base",
    "JudgeOptions": "toolsim.evaluator.judging.llm",
    "register_judge": "toolsim.evaluator.judging.factory",
    "Label": "toolsim.evaluator.labels",
    "Preference": "toolsim.evaluator.labels",
    "Verdict": "toolsim.evaluator.labels",
    "RateSummary": "toolsim.evaluator.scoring.aggregate",
    "summarize": "toolsim.evaluator.scoring.aggregate",
    "BudgetMetrics": "toolsim.evaluator.scoring.budget_metrics",
    "PassRateReport": "toolsim.evaluator.scoring.results",
    "WinRateReport": "toolsim.evaluator.scoring.results",
    "EntryResult": "toolsim.evaluator.scoring.results",
    "render_html": "toolsim.evaluator.reports.html",
    "write_reports": "toolsim.evaluator.reports.writers",
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
    "register_judge",
    "render_html",
    "summarize",
    "write_reports",
]

if TYPE_CHECKING:
    from toolsim.evaluator.judging.base import Judge
    from toolsim.evaluator.judging.factory import register_judge
    from toolsim.evaluator.judging.llm import JudgeOptions
    from toolsim.evaluator.labels import Label, Preference, Verdict
    from toolsim.evaluator.reports.html import render_html
    from toolsim.evaluator.reports.writers import write_reports
    from toolsim.evaluator.scoring.aggregate import RateSummary, summarize
    from toolsim.evaluator.scoring.budget_metrics import BudgetMetrics
    from toolsim.evaluator.scoring.pass_rate import evaluate_pass_rate, evaluate_pass_rate_async
    from toolsim.evaluator.scoring.results import EntryResult, PassRateReport, WinRateReport
    from toolsim.evaluator.scoring.win_rate import evaluate_win_rate, evaluate_win_rate_async


__getattr__ = lazy_exports(__name__, _EXPORTS)

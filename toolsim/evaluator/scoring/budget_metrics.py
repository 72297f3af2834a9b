"""Budget metrics from run records: PR, PBC, AC and RFBC.

Only queries with a toolsim record (``records/<group>/<id>.json``) take part.

* PR: the pass rate ignoring budgets (same scoring as SoPR, over the recorded queries).
* PBC: the pass rate counting a query only when it stayed within its budget: a query
  whose record says ``over_budget`` (or whose cost exceeds its budget) scores 0 in every
  run whatever the judge said. A query that hit the budget wall but still answered
  keeps its score (enforcement kept it within budget); one that hit it without
  answering is already Unsolved by the rules.
* AC: the mean cost per query.
* RFBC: the percentage of queries that went over budget or hit the budget wall
  (``over_budget`` or ``budget_exhausted``), among queries that had a budget.

Like SoPR, the value over several groups is the mean of the group values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from toolsim.answers import Answer
from toolsim.evaluator.labels import Label
from toolsim.evaluator.scoring.aggregate import Labels, RateSummary, summarize
from toolsim.runs import RunRecord


@dataclass(frozen=True, slots=True)
class BudgetMetrics:
    """PR, PBC, AC and RFBC of one group, or averaged over groups."""

    queries: int
    #: The budget every recorded query had, or None (none, or several different ones).
    budget: int | None
    ac: float | None
    rfbc: float | None
    pr: RateSummary
    pbc: RateSummary | None

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON form for reports."""
        return {
            "queries": self.queries,
            "budget": self.budget,
            "AC": None if self.ac is None else round(self.ac, 4),
            "RFBC": None if self.rfbc is None else round(self.rfbc, 4),
            "PR": self.pr.to_json(),
            "PBC": None if self.pbc is None else self.pbc.to_json(),
        }


def over_budget(record: RunRecord) -> bool:
    """The record's query spent more than its budget."""
    return record.over_budget or (record.budget is not None and record.cost > record.budget)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _over_budget_labels(per: Sequence[StrEnum]) -> list[StrEnum]:
    # An answer over its budget counts as unsolved in every run that was scored.
    return [label if label is Label.UNSCORED else Label.UNSOLVED for label in per]


def budget_metrics(
    strata: Sequence[tuple[Mapping[str, Answer], Labels]], runs: int
) -> BudgetMetrics | None:
    """The metrics of one group (one stratum) or over several; None without any record."""
    recorded: list[dict[str, Sequence[StrEnum]]] = []
    within: list[dict[str, Sequence[StrEnum]]] = []
    costs: list[float] = []
    failure_rates: list[float] = []
    budgets: set[int | None] = set()
    for answers, labels in strata:
        records = {
            qid: record
            for qid in labels
            if qid in answers and (record := answers[qid].record) is not None
        }
        if not records:
            continue
        recorded.append({qid: labels[qid] for qid in records})
        within.append(
            {
                qid: _over_budget_labels(per) if over_budget(records[qid]) else per
                for qid, per in recorded[-1].items()
            }
        )
        group_costs = [float(r.cost) for r in records.values()]
        if (mean_cost := _mean(group_costs)) is not None:
            costs.append(mean_cost)
        budgeted = [r for r in records.values() if r.budget is not None]
        budgets.update(r.budget for r in records.values())
        if budgeted:
            failed = [over_budget(r) or r.budget_exhausted for r in budgeted]
            failure_rates.append(100.0 * sum(failed) / len(failed))
    if not recorded:
        return None
    has_budget = bool(failure_rates)
    return BudgetMetrics(
        queries=sum(len(labels) for labels in recorded),
        budget=next(iter(budgets)) if len(budgets) == 1 else None,
        ac=_mean(costs),
        rfbc=_mean(failure_rates),
        pr=summarize(recorded, runs),
        pbc=summarize(within, runs) if has_budget else None,
    )

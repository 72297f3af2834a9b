"""pass^k over repeated runs of the same agent (entries that share a system).

For each judge run, a query succeeds in a trial when that trial's label is
Solved (Unsure is not a success here: pass^k asks for reliability); a query
missing from a trial failed it; a query unscored in any trial is left out of
that judge run. pass^k of a group is the mean over queries of C(c, k) / C(n, k)
(c successes in n trials), averaged over judge runs; overall is the mean of groups.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from toolsim.evaluator.labels import Label, Verdict
from toolsim.evaluator.scoring.results import EntryResult, PassK
from toolsim.evaluator.statistics import pass_hat_k


def _outcomes(entry: EntryResult, group: str) -> dict[str, list[Verdict]]:
    found = entry.groups.get(group)
    return found.outcomes if found is not None else {}


def _group_value(trials: Sequence[EntryResult], group: str, k: int, runs: int) -> float | None:
    queries = sorted({qid for entry in trials for qid in _outcomes(entry, group)})
    per_run = []
    for run in range(runs):
        values = []
        for qid in queries:
            labels = []
            for entry in trials:
                found = _outcomes(entry, group).get(qid)
                labels.append(found[run].label if found else Label.UNSOLVED)
            if Label.UNSCORED in labels:
                continue
            values.append(pass_hat_k(labels.count(Label.SOLVED), len(labels), k))
        if values:
            per_run.append(sum(values) / len(values))
    return 100.0 * sum(per_run) / len(per_run) if per_run else None


def pass_k_results(entries: Sequence[EntryResult], runs: int) -> list[PassK]:
    """pass^k for k = 1..n of every system with n >= 2 entries."""
    by_system: dict[str, list[EntryResult]] = defaultdict(list)
    for entry in entries:
        by_system[entry.system].append(entry)
    results = []
    for system, trials in by_system.items():
        if len(trials) < 2:
            continue
        groups = sorted({group for entry in trials for group in entry.groups})
        values: dict[int, dict[str, float | None]] = {}
        for k in range(1, len(trials) + 1):
            by_group = {group: _group_value(trials, group, k, runs) for group in groups}
            present = [value for value in by_group.values() if value is not None]
            by_group["overall"] = sum(present) / len(present) if present else None
            values[k] = by_group
        results.append(PassK(system, tuple(entry.label for entry in trials), values))
    return results

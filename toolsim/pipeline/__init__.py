"""The main job: run every agent x planner combination over a suite, evaluate, report.

:func:`run_bench` is the library behind ``toolsim bench``; :mod:`.determinism`
checks that replaying a finished bench gives the same tool replies and scores.
Names are imported on first use (PEP 562), so ``toolsim --help`` does not load
the agents and the judge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolsim.exports import lazy_exports

_EXPORTS = {
    "BenchConfig": "toolsim.pipeline.bench",
    "BenchResult": "toolsim.pipeline.bench",
    "Combination": "toolsim.pipeline.matrix",
    "combinations": "toolsim.pipeline.matrix",
    "run_bench": "toolsim.pipeline.bench",
}

__all__ = ["BenchConfig", "BenchResult", "Combination", "combinations", "run_bench"]

if TYPE_CHECKING:
    from toolsim.pipeline.bench import BenchConfig, BenchResult, run_bench
    from toolsim.pipeline.matrix import Combination, combinations


__getattr__ = lazy_exports(__name__, _EXPORTS)

"""The main job: run every agent x planner combination over a suite, evaluate, report.

:func:`run_bench` is the library behind ``toolsim bench``; :mod:`.determinism`
checks that replaying a finished bench gives the same tool replies and scores.
Names are imported on first use (PEP 562), so ``toolsim --help`` does not load
the agents and the judge.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'toolsim.pipeline' has no attribute {name!r}")
    return getattr(import_module(module), name)

"""The main job: run every agent x planner combination over a suite, evaluate, report.

:func:`run_bench` is the library behind ``toolsim bench``; :mod:`.determinism`
checks that replaying a finished bench gives the same tool replies and scores.
"""

from toolsim.pipeline.bench import BenchConfig, BenchResult, run_bench
from toolsim.pipeline.matrix import Combination, combinations

__all__ = ["BenchConfig", "BenchResult", "Combination", "combinations", "run_bench"]

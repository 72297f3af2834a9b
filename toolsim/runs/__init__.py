"""The run folder: what ``toolsim run`` writes, and how everything else reads it.

One contract between the agent (which writes run folders) and the answer loader,
evaluator, planner and pipeline (which read them): the layout
(:class:`RunFolder`), the manifest (:class:`RunManifest`), the per-query record
(:class:`RunRecord` with its :class:`QueryStatus`) and the answer-format names
(``Finish``, ``give_answer``, ...) in :mod:`toolsim.runs.answer_format`.
"""

from toolsim.runs.answer_format import FINISH, GIVE_ANSWER, GIVE_UP
from toolsim.runs.folder import RunFolder, is_run_folder, safe_name
from toolsim.runs.manifest import RunManifest
from toolsim.runs.parsing import InvalidRunFile
from toolsim.runs.record import CallRecord, QueryStatus, RunRecord, StepFailure

__all__ = [
    "FINISH",
    "GIVE_ANSWER",
    "GIVE_UP",
    "CallRecord",
    "InvalidRunFile",
    "QueryStatus",
    "RunFolder",
    "RunManifest",
    "RunRecord",
    "StepFailure",
    "is_run_folder",
    "safe_name",
]

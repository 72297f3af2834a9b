"""The run record: what one query of a ``toolsim run`` did (``records/<group>/<id>.json``).

The agent writes one per query, last (its presence means the query's other files
are complete); the evaluator (budget metrics), the planner (call counts), the
answer loader and ``toolsim bench`` read it. Records written before a field
existed read with that field's default (``model_retries`` 0, a call's ``turn``
None, ...).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from toolsim.runs.parsing import parse

#: Version of the manifest and record formats.
FORMAT = 1


class QueryStatus(StrEnum):
    """How a query of a run ended."""

    #: ``Finish`` with ``give_answer`` and a non-empty answer.
    ANSWERED = "answered"
    #: ``Finish`` with ``give_up_and_restart`` (every branch, for DFSDT).
    GAVE_UP = "gave_up"
    #: A limit (steps, model calls) was reached without a Finish.
    NO_ANSWER = "no_answer"
    #: The model gave no usable reply, or something raised.
    FAILED = "failed"
    #: The query took longer than ``--query-timeout``.
    TIMEOUT = "timeout"
    #: The world failed the agent (a simulator, model or store that did not answer; see
    #: :func:`toolsim.errors.is_infrastructure`): not the agent's fault, never scored.
    INFRASTRUCTURE = "infrastructure"

    @property
    def done(self) -> bool:
        """Whether a resumed run skips the query (``failed``, ``timeout`` and
        ``infrastructure`` run again)."""
        return self in DONE


#: Statuses after which a query is not run again when a run is resumed.
DONE = frozenset({QueryStatus.ANSWERED, QueryStatus.GAVE_UP, QueryStatus.NO_ANSWER})


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRecord:
    """One tool call the model asked for: executed, or rejected before it ran."""

    function: str = ""
    #: The parsed arguments as the model sent them.
    arguments: dict[str, Any] = field(default_factory=dict)
    cost: int = 0
    #: The API's error text, or why the call was not executed.
    error: str = ""
    #: Why the call was not executed (``unknown``, ``over_budget``, a planner's reason);
    #: None when it was.
    rejected: str | None = None
    #: Where the reply came from (``cache``, ``simulated``, ...), ``gate`` or ``agent``
    #: for a rejection; None while the call is in flight.
    source: str | None = None
    #: The model reply (turn) the call came from: parallel calls share one.
    turn: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The call as the record file holds it."""
        return asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class StepFailure:
    """A step with no usable model reply after every attempt."""

    depth: int
    sibling: int
    error: str

    def to_json(self) -> dict[str, Any]:
        """The failure as the record file holds it."""
        return asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    """Everything toolsim keeps about one query of a run (the README's Output table)."""

    format: int = FORMAT
    query_id: str = ""
    group: str = ""
    agent: str = ""
    #: The reference method name (``CoT@1``, ``DFS_woFilter_w2``).
    method: str = ""
    planner: str | None = None
    #: A record without one (toolsim always writes it) reads as failed: unfinished, run again.
    status: QueryStatus = QueryStatus.FAILED
    #: The answer of ``Finish`` with ``give_answer`` ("" if none).
    final_answer: str = ""
    #: Why the query failed, timed out or ended without an answer.
    error: str | None = None
    model_calls: int = 0
    failed_model_calls: int = 0
    #: Re-sends of model requests after transient failures, and seconds waited for them.
    model_retries: int = 0
    model_retry_seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    #: Calls executed, and calls rejected (by the gate, or to unknown functions).
    tool_calls: int = 0
    rejected_calls: int = 0
    budget: int | None = None
    cost: int = 0
    #: Spent more than the budget (possible only with planners that do not enforce it).
    over_budget: bool = False
    #: Hit the budget wall: a call was refused for its price, or nothing was left to offer.
    budget_exhausted: bool = False
    calls: tuple[CallRecord, ...] = ()
    #: The gate's own ``record()``: budget, spending, rejections and the planner's plan (a
    #: dict for toolsim's gates; any JSON from a plug-in's, kept as it is).
    plan: Any = None
    failed_steps: tuple[StepFailure, ...] = ()
    wall_seconds: float = 0.0
    #: When the record was written (ISO 8601, UTC).
    finished: str = ""

    @property
    def executed_calls(self) -> list[CallRecord]:
        """The calls that ran (rejected ones never did)."""
        return [call for call in self.calls if not call.rejected]

    @classmethod
    def from_json(cls, data: Any) -> RunRecord:
        """A record from a file's JSON; :class:`~toolsim.runs.parsing.InvalidRunFile` if none."""
        return parse(cls, data)

    def to_json(self) -> dict[str, Any]:
        """The record as its file holds it (keys in field order)."""
        data = asdict(self)
        data["status"] = self.status.value
        data["calls"] = [call.to_json() for call in self.calls]
        data["failed_steps"] = [failure.to_json() for failure in self.failed_steps]
        return data

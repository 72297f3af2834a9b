"""One query being solved: the model, the tools, the gate, and what was spent.

The agents (:mod:`toolsim.agent.agents`) decide the order of steps; an
:class:`Episode` makes each one: it asks the model (sampling again after
unusable output), consults the gate for every call the reply makes, calls the
tools in order, and counts everything for the record. It keeps its state
outside the agent's coroutine, so a query that times out or fails still yields
what it did.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from toolsim.agent import actions, prompts
from toolsim.agent.actions import ActionMode, BadOutput, View
from toolsim.agent.tools import ToolClient
from toolsim.agent.trajectory import Action, Step
from toolsim.budget import Gate
from toolsim.catalog.models import ApiSpec, Query
from toolsim.catalog.parameters import ParamNames
from toolsim.errors import ToolsimError, is_infrastructure
from toolsim.llm import ChatModel, ChatRequest
from toolsim.runs import CallRecord, StepFailure
from toolsim.runs.answer_format import (
    CODE_ANSWER,
    CODE_GIVE_UP,
    CODE_NOT_EXECUTED,
    CODE_REPLY,
    GIVE_ANSWER,
)


@dataclass(frozen=True)
class AgentLimits:
    """How far an agent may go on one query."""

    max_steps: int = 12
    width: int = 2
    max_model_calls: int = 200
    attempts: int = 3
    max_tokens: int = 512
    temperature: float = 0.0
    #: Temperature of a new attempt after unusable output (at 0 the same output would come back).
    resample_temperature: float = 0.7
    seed: int = 42
    observation_chars: int = 1024
    #: Rough character budget of one request (small local contexts); None: no trimming.
    context_chars: int | None = None
    #: Parameter names shown to the model: documented, or StableToolBench's (``stb``).
    param_names: ParamNames = ParamNames.DOCUMENTED


class CallLimitReached(Exception):
    """The query used up its model calls."""


class FailedStep(Exception):
    """No usable action after every attempt."""


class InfrastructureFailure(Exception):
    """The world failed the agent (its model, the tool server, the simulator or the store
    did not answer): the query ends with status ``infrastructure``, never scored."""


@dataclass
class Episode:
    """The state of one query's run."""

    query: Query
    apis: dict[str, ApiSpec]  # function name -> API: the query's candidates
    gate: Gate
    model: ChatModel
    tools: ToolClient
    mode: ActionMode
    limits: AgentLimits
    roots: list[Step] = field(default_factory=list)
    model_calls: int = 0
    failed_model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: list[CallRecord] = field(default_factory=list)
    failed_steps: list[StepFailure] = field(default_factory=list)
    expansions: int = 0
    #: Model replies acted on (a reply with parallel tool calls is one turn, several steps).
    turns: int = 0
    #: Re-sends of model requests after transient failures, and seconds waited for them.
    model_retries: int = 0
    model_retry_seconds: float = 0.0
    #: Show a tool call's infrastructure failure to the model as the API's error reply
    #: (what reference runs do) instead of ending the query with :class:`InfrastructureFailure`.
    failures_as_replies: bool = False

    @property
    def calls_left(self) -> int:
        """Model calls this query may still make."""
        return self.limits.max_model_calls - self.model_calls

    def offered(self) -> list[ApiSpec]:
        """The query's APIs the gate offers now, in the gate's order."""
        return [self.apis[name] for name in self.gate.offered() if name in self.apis]

    async def decide(
        self, path: Sequence[Step], *, sibling: int = 0, note: str = ""
    ) -> tuple[Action, ...]:
        """Ask the model for the next actions after ``path`` (one, or several parallel calls).

        Unusable output is sampled again, up to ``attempts`` in all; a failed model
        call (its transient failures already re-sent unchanged) ends the step.
        Raises :class:`CallLimitReached` when no model call is left, and
        :class:`FailedStep` (recorded) when no usable reply came.
        """
        notes = [note] if note else []
        advice = self.gate.advice()
        if advice:
            notes.append(prompts.advice_note(advice))
        view = View(
            self.query.text,
            tuple(path),
            tuple(self.offered()),
            tuple(notes),
            self.limits.param_names,
        )
        built = actions.build(view, self.mode, context_chars=self.limits.context_chars)
        problem = ""
        for attempt in range(self.limits.attempts):
            if self.calls_left <= 0:
                raise CallLimitReached
            request = self._request(built, attempt, sibling)
            self.model_calls += 1
            try:
                reply = await self.model.complete(request)
            except ToolsimError as exc:
                self.failed_model_calls += 1
                self.model_retries += int(exc.details.get("retries", 0))
                self.model_retry_seconds += float(exc.details.get("waited", 0.0))
                if is_infrastructure(exc):
                    raise InfrastructureFailure(f"the agent's model failed: {exc.message}") from exc
                problem = exc.message
                break  # sampling again would not help a model that cannot answer
            self.prompt_tokens += reply.prompt_tokens
            self.completion_tokens += reply.completion_tokens
            self.model_retries += reply.retries
            self.model_retry_seconds += reply.retry_seconds
            try:
                return actions.parse(reply, self.mode)
            except BadOutput as exc:
                self.failed_model_calls += 1
                problem = str(exc)
        self.failed_steps.append(StepFailure(depth=len(path) + 1, sibling=sibling, error=problem))
        raise FailedStep(problem)

    def _request(self, built: dict[str, Any], attempt: int, sibling: int) -> ChatRequest:
        limits = self.limits
        seed = limits.seed + attempt + 1000 * sibling
        return ChatRequest(
            messages=tuple(built["messages"]),
            tools=tuple(built["tools"]),
            response_format=built["response_format"],
            temperature=limits.temperature if attempt == 0 else limits.resample_temperature,
            seed=seed,
            max_tokens=limits.max_tokens,
            # Retries and siblings are distinct requests, each cached on its own.
            sample=attempt + 1000 * sibling,
        )

    async def act(self, chosen: Sequence[Action], parent: Step | None, *, note: str = "") -> Step:
        """Carry out the actions of one reply in order; return the last step.

        Each call is its own step (the child of the one before), checked by the gate
        on its own; a ``Finish`` ends the reply.
        """
        step = parent
        turn = self.turns
        self.turns += 1
        for batch, action in enumerate(chosen):
            if action.is_finish:
                answered = action.return_type == GIVE_ANSWER
                code = CODE_ANSWER if answered else CODE_GIVE_UP
                text = "the final answer was given" if answered else "gave up; starting over"
                observation = json.dumps({"response": text})
            else:
                code, observation = await self._call(action, turn)
            child = Step(
                action,
                observation,
                code,
                step,
                index=self.expansions,
                note=note if batch == 0 else "",
                batch=batch,
            )
            self.expansions += 1
            (step.children if step else self.roots).append(child)
            step = child
            if action.is_finish:
                break
        assert step is not None, "a reply has at least one action"
        return step

    async def _call(self, action: Action, turn: int) -> tuple[int, str]:
        # Listed before the call runs, so a query that times out keeps the call it was making.
        index = len(self.calls)
        call = CallRecord(function=action.function, arguments=action.parsed, turn=turn)
        self.calls.append(call)
        api = self.apis.get(action.function)
        if api is None:
            message = f"no function named {action.function!r} is available"
            self.calls[index] = replace(call, error=message, rejected="unknown", source="agent")
            return CODE_NOT_EXECUTED, _error_observation(message)
        rejection = self.gate.check(action.function, action.parsed)
        if rejection is not None:
            self.calls[index] = replace(
                call, error=rejection.message, rejected=rejection.reason, source="gate"
            )
            return CODE_NOT_EXECUTED, _error_observation(rejection.message)
        reply = await self.tools.call(api, action.parsed)
        self.calls[index] = call = replace(call, error=reply.error, source=reply.source)
        if reply.infrastructure and not self.failures_as_replies:
            raise InfrastructureFailure(f"{action.function}: {reply.error}")
        if reply.answered:
            self.calls[index] = replace(
                call, cost=self.gate.charge(call.function, error=call.error)
            )
        return CODE_REPLY, reply.observation(self.limits.observation_chars)


def _error_observation(message: str) -> str:
    return json.dumps({"error": message, "response": ""}, ensure_ascii=False)

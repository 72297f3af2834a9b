"""One query being solved: the model, the tools, the gate, and what was spent.

The agents (:mod:`toolsim.agent.cot`, :mod:`toolsim.agent.dfsdt`) decide the
order of steps; an :class:`Episode` makes each one: it asks the model (with
retries), consults the gate, calls the tool, and counts everything for the
record. It keeps its state outside the agent's coroutine, so a query that times
out or fails still yields what it did.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from toolsim.agent import actions, prompts
from toolsim.agent.actions import ActionMode, BadOutput, View
from toolsim.agent.tools import ToolClient
from toolsim.agent.trajectory import (
    CODE_ANSWER,
    CODE_GIVE_UP,
    CODE_NOT_EXECUTED,
    CODE_REPLY,
    GIVE_ANSWER,
    Action,
    Step,
)
from toolsim.budget import Gate
from toolsim.catalog.models import ApiSpec, Query
from toolsim.errors import ToolsimError
from toolsim.llm import ChatModel, ChatRequest

#: Temperature of a retry after unusable output (at 0 the same output would come back).
RETRY_TEMPERATURE = 0.7


@dataclass(frozen=True)
class AgentLimits:
    """How far an agent may go on one query."""

    max_steps: int = 12
    width: int = 2
    max_model_calls: int = 200
    attempts: int = 3
    max_tokens: int = 512
    temperature: float = 0.0
    seed: int = 42
    observation_chars: int = 1024
    #: Rough character budget of one request (small local contexts); None: no trimming.
    context_chars: int | None = None


class CallLimitReached(Exception):
    """The query used up its model calls."""


class FailedStep(Exception):
    """No usable action after every attempt."""


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
    calls: list[dict[str, Any]] = field(default_factory=list)
    failed_steps: list[dict[str, Any]] = field(default_factory=list)
    expansions: int = 0

    @property
    def calls_left(self) -> int:
        """Model calls this query may still make."""
        return self.limits.max_model_calls - self.model_calls

    def offered(self) -> list[ApiSpec]:
        """The query's APIs the gate offers now, in the gate's order."""
        return [self.apis[name] for name in self.gate.offered() if name in self.apis]

    async def decide(self, path: Sequence[Step], *, sibling: int = 0, note: str = "") -> Action:
        """Ask the model for the next action after ``path``, retrying unusable replies.

        Raises :class:`CallLimitReached` when no model call is left, and
        :class:`FailedStep` (recorded) when every attempt failed.
        """
        notes = [note] if note else []
        advice = self.gate.advice()
        if advice:
            notes.append(prompts.advice_note(advice))
        view = View(self.query.text, tuple(path), tuple(self.offered()), tuple(notes))
        built = actions.build(view, self.mode, context_chars=self.limits.context_chars)
        problem = ""
        for attempt in range(self.limits.attempts):
            if self.calls_left <= 0:
                raise CallLimitReached
            request = self._request(built, attempt, sibling)
            self.model_calls += 1
            try:
                reply = await self.model.complete(request)
                self.prompt_tokens += reply.prompt_tokens
                self.completion_tokens += reply.completion_tokens
                return actions.parse(reply, self.mode)
            except (BadOutput, ToolsimError) as exc:
                self.failed_model_calls += 1
                problem = exc.message if isinstance(exc, ToolsimError) else str(exc)
        self.failed_steps.append({"depth": len(path) + 1, "sibling": sibling, "error": problem})
        raise FailedStep(problem)

    def _request(self, built: dict[str, Any], attempt: int, sibling: int) -> ChatRequest:
        limits = self.limits
        seed = limits.seed + attempt + 1000 * sibling
        return ChatRequest(
            messages=tuple(built["messages"]),
            tools=tuple(built["tools"]),
            response_format=built["response_format"],
            temperature=limits.temperature if attempt == 0 else RETRY_TEMPERATURE,
            seed=seed,
            max_tokens=limits.max_tokens,
            # Retries and siblings are distinct requests, each cached on its own.
            sample=attempt + 1000 * sibling,
        )

    async def act(self, action: Action, parent: Step | None, *, note: str = "") -> Step:
        """Carry out an action and attach the resulting step under ``parent``."""
        if action.is_finish:
            answered = action.return_type == GIVE_ANSWER
            code = CODE_ANSWER if answered else CODE_GIVE_UP
            text = "the final answer was given" if answered else "gave up; starting over"
            observation = json.dumps({"response": text})
        else:
            code, observation = await self._call(action)
        step = Step(action, observation, code, parent, index=self.expansions, note=note)
        self.expansions += 1
        (parent.children if parent else self.roots).append(step)
        return step

    async def _call(self, action: Action) -> tuple[int, str]:
        record: dict[str, Any] = {
            "function": action.function,
            "arguments": action.parsed,
            "cost": 0,
            "error": "",
            "rejected": None,
            "source": None,
        }
        self.calls.append(record)
        api = self.apis.get(action.function)
        if api is None:
            message = f"no function named {action.function!r} is available"
            record.update(error=message, rejected="unknown", source="agent")
            return CODE_NOT_EXECUTED, _error_observation(message)
        rejection = self.gate.check(action.function, action.parsed)
        if rejection is not None:
            record.update(error=rejection.message, rejected=rejection.reason, source="gate")
            return CODE_NOT_EXECUTED, _error_observation(rejection.message)
        reply = await self.tools.call(api, action.parsed)
        record.update(error=reply.error, source=reply.source)
        if reply.answered:
            record["cost"] = self.gate.charge(action.function, error=reply.error)
        return CODE_REPLY, reply.observation(self.limits.observation_chars)


def _error_observation(message: str) -> str:
    return json.dumps({"error": message, "response": ""}, ensure_ascii=False)

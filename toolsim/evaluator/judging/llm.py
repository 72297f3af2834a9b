"""The LLM judge: short prompts, a JSON-constrained verdict, failures kept apart from "Unsolved".

Every request goes through a :class:`~toolsim.llm.ChatModel` (normally a
:class:`~toolsim.llm.CachedChat`), with the evaluation run index as
``ChatRequest.sample``: run 2 of a query is a different request from run 1,
and asking the same question again is answered from the cache.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from string import Template
from typing import TYPE_CHECKING, Any

from toolsim.answers import Answer
from toolsim.errors import NoVerdict, UpstreamError, UserError
from toolsim.evaluator.judging.base import JudgeIdentity, measured_agreement
from toolsim.evaluator.labels import Label, Verdict

if TYPE_CHECKING:
    from toolsim.llm import ChatModel

VERDICTS = (Label.SOLVED.value, Label.UNSOLVED.value, Label.UNSURE.value)
PREFERENCES = ("A", "B", "tie")


@dataclass(frozen=True, slots=True)
class JudgeOptions:
    """How the judge samples and how much text it shows the model."""

    #: Each run is an independent sample, as in the reference's repeated evaluation;
    #: the seed moves with the run index so each run is reproducible on its own.
    temperature: float = 0.5
    seed: int = 42
    max_tokens: int = 200
    #: Characters of answers and trajectory in one prompt: the embedded model has about
    #: 4k tokens per slot, and prompt plus reply must fit.
    prompt_chars: int = 6000
    query_chars: int = 1500


PROMPTS = (
    "pass_system",
    "pass_user",
    "trajectory_system",
    "trajectory_user",
    "compare_system",
    "compare_user",
)


def _prompt_text(name: str) -> str:
    return (
        resources.files("toolsim.evaluator.judging")
        .joinpath("prompts", f"{name}.txt")
        .read_text("utf-8")
    )


def prompt_hash(texts: Mapping[str, str]) -> str:
    """The first 12 hex digits of the sha256 over every judge prompt (names and ``texts``,
    in :data:`PROMPTS` order)."""
    digest = hashlib.sha256()
    for name in PROMPTS:
        digest.update(f"{name}\0{texts[name]}\0".encode())
    return digest.hexdigest()[:12]


def shorten(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters: head and tail kept, the cut marked."""
    if len(text) <= limit:
        return text
    keep = max(limit - 40, 20)
    head = keep * 2 // 3
    tail = keep - head
    cut = len(text) - head - tail
    return f"{text[:head]}[... {cut} characters cut ...]{text[len(text) - tail :]}"


def _schema(field: str, choices: tuple[str, ...]) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {
            "reason": {"type": "string", "maxLength": 300},
            field: {"type": "string", "enum": list(choices)},
        },
        "required": ["reason", field],
        "additionalProperties": False,
    }
    return {"type": "json_schema", "json_schema": {"name": field, "schema": schema, "strict": True}}


def parse_reply(content: str | None, field: str, choices: tuple[str, ...]) -> tuple[str, str]:
    """``(choice, reason)`` from the model's JSON reply.

    Raises:
        NoVerdict: the reply holds no usable choice (the message says why).
    """
    if not content or not content.strip():
        raise NoVerdict("empty reply")
    text = content.strip()
    start, end = text.find("{"), text.rfind("}")
    try:
        data = json.loads(text[start : end + 1] if 0 <= start < end else text)
    except json.JSONDecodeError:
        raise NoVerdict(f"reply is not JSON: {shorten(text, 120)!r}") from None
    if not isinstance(data, dict):
        raise NoVerdict("reply is not a JSON object")
    value = data.get(field)
    by_lower = {choice.lower(): choice for choice in choices}
    if not isinstance(value, str) or value.strip().lower() not in by_lower:
        raise NoVerdict(f"reply has no valid {field!r} (got {value!r})")
    reason = data.get("reason")
    return by_lower[value.strip().lower()], reason if isinstance(reason, str) else ""


class LLMJudge:
    """Asks a chat model for pass-rate verdicts and pairwise preferences."""

    def __init__(
        self, chat: ChatModel, options: JudgeOptions | None = None, *, backend: str = "chat"
    ) -> None:
        self.chat = chat
        self.name = chat.name
        self.backend = backend
        self.options = options or JudgeOptions()
        self.requests = 0
        self.failed = 0
        texts = {name: _prompt_text(name) for name in PROMPTS}
        self._templates = {name: Template(text) for name, text in texts.items()}
        self.prompts_hash = prompt_hash(texts)

    def identity(self) -> JudgeIdentity:
        """Backend, model, prompt hash and (when measured) agreement with the reference."""
        return JudgeIdentity(
            backend=self.backend,
            model=self.chat.name,
            fingerprint=f"prompt {self.prompts_hash}",
            agreement=measured_agreement(self.chat.name, self.prompts_hash),
        )

    async def aclose(self) -> None:
        """Close the chat model."""
        await self.chat.aclose()

    @property
    def calls(self) -> int:
        """Requests that reached the model (cache misses)."""
        return getattr(self.chat, "calls", self.requests)

    @property
    def cached(self) -> int:
        """Requests answered from the cache."""
        return getattr(self.chat, "hits", 0)

    @property
    def retries(self) -> int:
        """Re-sends of judge requests after transient failures (rate limits, 5xx)."""
        return getattr(self.chat, "retries", 0)

    @property
    def retry_seconds(self) -> float:
        """Seconds waited before those re-sends."""
        return getattr(self.chat, "retry_seconds", 0.0)

    def _render(self, name: str, **values: Any) -> str:
        return self._templates[name].substitute(**values).strip()

    async def _ask(
        self, system: str, user: str, run: int, field: str, choices: tuple[str, ...]
    ) -> tuple[str, str]:
        from toolsim.llm import ChatRequest, LLMUnavailable

        options = self.options
        request = ChatRequest(
            messages=({"role": "system", "content": system}, {"role": "user", "content": user}),
            response_format=_schema(field, choices),
            temperature=options.temperature,
            seed=options.seed + run,
            max_tokens=options.max_tokens,
            sample=run,
        )
        self.requests += 1
        try:
            reply = await self.chat.complete(request)
        except LLMUnavailable as exc:
            # Nothing can be judged without a model: stop rather than report all unscored.
            raise UserError(f"the judge model is unavailable: {exc.message}") from None
        except UpstreamError as exc:
            self.failed += 1
            raise NoVerdict(f"judge request failed: {exc.message}") from None
        return parse_reply(reply.content, field, choices)

    async def verdict(self, answer: Answer, run: int) -> Verdict:
        """The label of a finished answer: the judge reads the final answer, and an Unsure
        verdict is asked again with the whole trajectory (whose label is final)."""
        first = await self.ask(answer, run)
        if first.label is not Label.UNSURE:
            return first
        second = await self.ask(answer, run, trajectory=True)
        if second.label is Label.UNSCORED:
            return Verdict(Label.UNSCORED, f"second pass: {second.reason}", second.by)
        return second

    async def ask(self, answer: Answer, run: int, *, trajectory: bool = False) -> Verdict:
        """Solved / Unsolved / Unsure for a finished answer (unscored if no usable verdict)."""
        options = self.options
        query = shorten(answer.query, options.query_chars)
        if trajectory:
            final = shorten(answer.final_answer, options.prompt_chars // 3)
            steps = self._steps(answer, options.prompt_chars - len(final))
            system = self._render("trajectory_system")
            user = self._render(
                "trajectory_user",
                query=query,
                count=len(answer.steps),
                steps=steps,
                answer=final,
            )
        else:
            system = self._render("pass_system")
            user = self._render(
                "pass_user", query=query, answer=shorten(answer.final_answer, options.prompt_chars)
            )
        by = "trajectory" if trajectory else "answer"
        try:
            choice, reason = await self._ask(system, user, run, "verdict", VERDICTS)
        except NoVerdict as exc:
            return Verdict(Label.UNSCORED, exc.message, by)
        return Verdict(Label(choice), reason, by)

    def _steps(self, answer: Answer, budget: int) -> str:
        if not answer.steps:
            return "(none)"
        each = max(budget // len(answer.steps), 120)
        lines = []
        used = 0
        for number, step in enumerate(answer.steps, 1):
            line = shorten(f"{number}. {step.function}({step.arguments}) -> {step.response}", each)
            if used + len(line) > budget:
                lines.append(f"[... {len(answer.steps) - number + 1} more calls cut ...]")
                break
            lines.append(line)
            used += len(line) + 1
        return "\n".join(lines)

    async def compare(self, query: str, first: Answer, second: Answer, run: int) -> tuple[str, str]:
        """Which of two answers (shown as A then B) is better: ``("A"|"B"|"tie", reason)``.

        Raises:
            NoVerdict: no usable verdict (the caller counts the round as unscored).
        """
        options = self.options
        each = (options.prompt_chars - options.query_chars) // 2

        def calls(answer: Answer) -> str:
            names = ", ".join(step.function for step in answer.steps) or "none"
            return shorten(names, 300)

        user = self._render(
            "compare_user",
            query=shorten(query, options.query_chars),
            count_a=len(first.steps),
            calls_a=calls(first),
            answer_a=shorten(first.final_answer, each) or "(no answer)",
            count_b=len(second.steps),
            calls_b=calls(second),
            answer_b=shorten(second.final_answer, each) or "(no answer)",
        )
        return await self._ask(self._render("compare_system"), user, run, "preferred", PREFERENCES)

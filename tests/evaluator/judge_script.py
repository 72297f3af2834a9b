"""The scripted judge: a chat backend registered like a real one, answering from a test's script.

The judge answers each request with whatever the test's ``respond`` function
returns for ``(kind, user_text, run)``, where kind is ``answer``, ``trajectory``
or ``compare``; it records every request that reaches it, that is every real
model call (the ``CachedChat`` around it answers repeats).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from toolsim.errors import UpstreamError
from toolsim.llm import ChatReply, ChatRequest, register_chat_model

Respond = Callable[[str, str, int], str]
MARK = re.compile(r"\[\[(\w+)\]\]")
BACKEND = "scripted-judge"


def verdict(label: str, reason: str = "scripted") -> str:
    return json.dumps({"reason": reason, "verdict": label})


def preferred(choice: str, reason: str = "scripted") -> str:
    return json.dumps({"reason": reason, "preferred": choice})


def fail(message: str = "scripted failure") -> str:
    raise UpstreamError(message)


def marks(text: str) -> list[str]:
    """The ``[[name]]`` markers in a prompt, in order (tests put them in answers)."""
    return MARK.findall(text)


def kind_of(request: ChatRequest) -> str:
    system = request.messages[0]["content"]
    if "compare two answers" in system:
        return "compare"
    return "trajectory" if "every tool call" in system else "answer"


def _default(kind: str, user: str, run: int) -> str:
    return preferred("tie") if kind == "compare" else verdict("Solved")


class Script:
    """What the scripted judge says, and what it was asked."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.respond: Respond = _default
        self.requests: list[ChatRequest] = []

    @property
    def calls(self) -> int:
        return len(self.requests)

    def kinds(self) -> list[str]:
        return [kind_of(request) for request in self.requests]


SCRIPT = Script()


class ScriptedJudge:
    name = "scripted-judge"

    async def complete(self, request: ChatRequest) -> ChatReply:
        SCRIPT.requests.append(request)
        content = SCRIPT.respond(kind_of(request), request.messages[1]["content"], request.sample)
        return ChatReply(content=content, prompt_tokens=10, completion_tokens=5)

    async def aclose(self) -> None:
        return None


@register_chat_model(BACKEND)
def _scripted(**_: Any) -> ScriptedJudge:
    return ScriptedJudge()

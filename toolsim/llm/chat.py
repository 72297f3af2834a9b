"""Chat models: one request/reply shape for every role, the Protocol, and a reply cache.

A :class:`ChatModel` answers a :class:`ChatRequest` (messages, optional tools or
``response_format``) with a :class:`ChatReply`. The one OpenAI-compatible client is
:class:`~toolsim.llm.client.OpenAIChat`; :mod:`toolsim.llm.roles` builds the model
each role is configured to use.

:class:`CachedChat` keeps every successful reply on disk, keyed on the model's
name and the whole request (including ``sample``, which tells repeated runs of
the same request apart), so a rerun over the same inputs asks the model nothing
and sees exactly the same replies. Failures are never cached.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import diskcache

from toolsim.errors import UpstreamError
from toolsim.singleflight import SingleFlight

#: Bumped when the cached reply layout changes; old entries are then simply not found.
CACHE_FORMAT = 1


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One function call the model asked for (native tool calling)."""

    name: str
    arguments: str  # JSON text, exactly as the model wrote it
    id: str = ""


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """Everything that decides a model's reply; also the cache key's content."""

    messages: tuple[dict[str, Any], ...]
    tools: tuple[dict[str, Any], ...] = ()
    #: An OpenAI ``response_format`` (e.g. ``{"type": "json_schema", ...}``), or None.
    response_format: dict[str, Any] | None = None
    temperature: float = 0.0
    seed: int | None = 42
    max_tokens: int = 512
    #: Distinguishes deliberate repeats (judge run 2, retry 3): part of the cache key.
    sample: int = 0

    def key(self, model: str) -> str:
        """A stable digest of this request sent to ``model``."""
        body = {
            "format": CACHE_FORMAT,
            "model": model,
            "messages": self.messages,
            "tools": self.tools,
            "response_format": self.response_format,
            "temperature": self.temperature,
            "seed": self.seed,
            "max_tokens": self.max_tokens,
            "sample": self.sample,
        }
        text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChatReply:
    """What the model said: text, tool calls, token usage."""

    content: str | None
    tool_calls: tuple[ToolCall, ...] = ()
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    #: True when the reply came from the cache (no model call was made).
    cached: bool = False
    #: Re-sends of this request after transient failures, and seconds spent waiting
    #: for them (never cached: a cached reply cost nothing).
    retries: int = 0
    retry_seconds: float = 0.0
    #: Reasoning items of a Responses API reply, to send back with the next turn
    #: (:mod:`toolsim.llm.responses`); empty from Chat Completions.
    reasoning: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON form, for the cache."""
        data: dict[str, Any] = {
            "content": self.content,
            "tool_calls": [[c.name, c.arguments, c.id] for c in self.tool_calls],
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "finish_reason": self.finish_reason,
        }
        if self.reasoning:
            data["reasoning"] = list(self.reasoning)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], *, cached: bool = False) -> ChatReply:
        """The reply :meth:`to_json` wrote."""
        return cls(
            content=data["content"],
            tool_calls=tuple(ToolCall(*call) for call in data["tool_calls"]),
            prompt_tokens=data["prompt_tokens"],
            completion_tokens=data["completion_tokens"],
            finish_reason=data["finish_reason"],
            cached=cached,
            reasoning=tuple(data.get("reasoning", ())),
        )


@runtime_checkable
class ChatModel(Protocol):
    """Anything that can answer a chat request."""

    #: The model's name: part of every cache key, so two models never share replies.
    name: str

    async def complete(self, request: ChatRequest) -> ChatReply:
        """Answer one request; raise :class:`UpstreamError` when no reply can be had."""
        ...

    async def aclose(self) -> None:
        """Release connections and servers."""
        ...


class CachedChat:
    """Wraps a chat model with a persistent reply cache and single-flight, and counts its work.

    Identical requests in flight at once share one model call: the first asks,
    the others wait for its reply (and get its failure, if it fails), so how many
    run concurrently never changes what any of them sees.
    """

    def __init__(self, model: ChatModel, directory: Path | str) -> None:
        self.model = model
        self.name = model.name
        self._cache = diskcache.Cache(str(directory))
        self._flights: SingleFlight[ChatReply] = SingleFlight()
        self.calls = 0  # requests that reached the model
        self.hits = 0  # requests answered from the cache, or by an identical one in flight
        self.retries = 0  # re-sends after transient failures, over all calls
        self.retry_seconds = 0.0  # seconds waited before them

    async def complete(self, request: ChatRequest) -> ChatReply:
        """The cached reply to this request, or the model's (then cached)."""
        key = request.key(self.name)
        if self._flights.busy(key):
            self.hits += 1
        reply, started = await self._flights.run(key, lambda: self._fetch(request, key))
        if started:
            return reply
        # This request cost nothing: the reply is shared, its retries were the first's.
        return replace(reply, cached=True, retries=0, retry_seconds=0.0)

    async def _fetch(self, request: ChatRequest, key: str) -> ChatReply:
        stored = await asyncio.to_thread(self._cache.get, key)
        if stored is not None:
            self.hits += 1
            return ChatReply.from_json(stored, cached=True)
        self.calls += 1
        try:
            reply = await self.model.complete(request)
        except UpstreamError as exc:
            self.retries += int(exc.details.get("retries", 0))
            self.retry_seconds += float(exc.details.get("waited", 0.0))
            raise
        self.retries += reply.retries
        self.retry_seconds += reply.retry_seconds
        await asyncio.to_thread(self._cache.set, key, reply.to_json())
        return reply

    async def aclose(self) -> None:
        """Close the model and the cache."""
        try:
            await self.model.aclose()
        finally:
            self._cache.close()

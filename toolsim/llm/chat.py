"""Chat models for the agent and the judge: one request/reply shape, a registry, a cache.

A :class:`ChatModel` answers a :class:`ChatRequest` (messages, optional tools or
``response_format``) with a :class:`ChatReply`. Built-ins: ``openai`` (any
OpenAI-compatible endpoint: vLLM, OpenAI, llama.cpp) and ``local`` (the embedded
model, shared with the simulator in one process). Test fakes and plug-ins are
registered the same way (:func:`register_chat_model`, or the entry-point group
``toolsim.chat_models``).

:class:`CachedChat` keeps every successful reply on disk, keyed on the model's
name and the whole request (including ``sample``, which tells repeated runs of
the same request apart), so a rerun over the same inputs asks the model nothing
and sees exactly the same replies. Failures are never cached.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import diskcache
import openai

from toolsim.errors import UpstreamError, UserError
from toolsim.llm.endpoint import Endpoint, EndpointSource, LLMUnavailable, RequestRejected
from toolsim.llm.local import acquire_local_server, local_model_options, release_local_server
from toolsim.llm.retry import RetryCount, RetryPolicy, send_with_retries
from toolsim.settings import Settings
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

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON form, for the cache."""
        return {
            "content": self.content,
            "tool_calls": [[c.name, c.arguments, c.id] for c in self.tool_calls],
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "finish_reason": self.finish_reason,
        }

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


class OpenAIChat:
    """A model behind an OpenAI-compatible ``/v1/chat/completions`` endpoint.

    The one client every role uses (agent, judge and simulator): transient
    failures are retried with the same request (:mod:`toolsim.llm.retry`); any
    other failure is an :class:`UpstreamError` saying what went wrong.
    """

    def __init__(
        self,
        endpoint: Endpoint | EndpointSource,
        *,
        timeout: float = 120.0,
        concurrency: int = 4,
        extra_body: dict[str, Any] | None = None,
        name: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._source = endpoint
        self._endpoint = endpoint if isinstance(endpoint, Endpoint) else None
        # The name is known up front for a fixed endpoint; a lazy one (the local
        # model) must say it, since cache lookups happen before any connection.
        self.name = name or (self._endpoint.model if self._endpoint else "")
        if not self.name:
            raise ValueError("a lazily started endpoint needs an explicit model name")
        self.timeout = timeout
        self.extra_body = extra_body or {}
        self.retry = retry or RetryPolicy()
        self._client: openai.AsyncOpenAI | None = None
        self._connect_lock = asyncio.Lock()
        self._slots = asyncio.Semaphore(concurrency)
        self.requests = 0  # HTTP requests sent, retries included
        self.prompt_tokens = 0
        self.completion_tokens = 0

    async def endpoint(self) -> Endpoint:
        """The endpoint, started or discovered on first use."""
        return (await self._connect())[1]

    async def _connect(self) -> tuple[openai.AsyncOpenAI, Endpoint]:
        async with self._connect_lock:
            if self._client is None:
                source = self._source
                endpoint = source if isinstance(source, Endpoint) else await source()
                self._endpoint = endpoint
                # Retries are ours (one policy for every role), so the client makes none.
                self._client = openai.AsyncOpenAI(
                    base_url=endpoint.base_url,
                    api_key=endpoint.api_key,
                    timeout=self.timeout,
                    max_retries=0,
                )
            assert self._endpoint is not None
            return self._client, self._endpoint

    async def complete(
        self,
        request: ChatRequest,
        *,
        deadline: float | None = None,
        extra_body: dict[str, Any] | None = None,
    ) -> ChatReply:
        """Send the request (retrying transient failures until ``deadline``, a monotonic time).

        ``extra_body`` adds server-specific fields to this request's (e.g. llama.cpp's).

        Raises :class:`LLMUnavailable` when the endpoint cannot be reached,
        :class:`RequestRejected` for HTTP 400, :class:`UpstreamError` otherwise; each
        with ``retries`` and ``waited`` in its details.
        """
        async with self._slots:
            client, endpoint = await self._connect()
            arguments: dict[str, Any] = {
                "model": endpoint.model,
                "messages": list(request.messages),
                "temperature": request.temperature,
                "max_tokens": request.max_tokens,
                "extra_body": {**self.extra_body, **(extra_body or {})} or None,
            }
            if request.tools:
                arguments["tools"] = list(request.tools)
            if request.response_format is not None:
                arguments["response_format"] = request.response_format
            if request.seed is not None:
                arguments["seed"] = request.seed
            count = RetryCount()

            async def send() -> Any:
                self.requests += 1
                return await client.chat.completions.create(**arguments)

            try:
                completion = await send_with_retries(send, self.retry, count, deadline=deadline)
            except Exception as exc:
                raise _failure(exc, endpoint, self.timeout, count) from None
        reply = _reply(completion, count)
        self.prompt_tokens += reply.prompt_tokens
        self.completion_tokens += reply.completion_tokens
        return reply

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.close()
            self._client = None


def _failure(exc: Exception, endpoint: Endpoint, timeout: float, count: RetryCount) -> Exception:
    """The toolsim error a failed request becomes (other exceptions pass through)."""
    details = {"retries": count.retries, "waited": round(count.waited, 3)}
    after = f" (after {count.retries} retries)" if count.retries else ""
    if isinstance(exc, openai.APITimeoutError):
        return UpstreamError(f"the model did not answer within {timeout:g} s{after}", **details)
    if isinstance(exc, openai.APIConnectionError):
        return LLMUnavailable(
            f"cannot reach the model at {endpoint.base_url}{after}: {exc}", **details
        )
    if isinstance(exc, openai.BadRequestError):
        return RequestRejected(f"the model endpoint rejected the request: {exc}", **details)
    if isinstance(exc, openai.APIStatusError):
        return UpstreamError(
            f"the model endpoint answered HTTP {exc.status_code}{after}: {str(exc)[:300]}",
            **details,
        )
    if isinstance(exc, json.JSONDecodeError | openai.APIResponseValidationError):
        return UpstreamError(f"the model endpoint answered malformed JSON: {exc}", **details)
    return exc


def _reply(completion: Any, count: RetryCount) -> ChatReply:
    if isinstance(completion, str):
        # The client hands back a body that is not JSON (a web page at the wrong URL) as text.
        raise UpstreamError(f"the model endpoint did not answer with JSON: {completion[:200]!r}")
    if not getattr(completion, "choices", None):
        raise UpstreamError("the model endpoint returned no usable completion")
    choice = completion.choices[0]
    calls = tuple(
        ToolCall(name=call.function.name, arguments=call.function.arguments or "", id=call.id)
        for call in (choice.message.tool_calls or ())
        if getattr(call, "function", None) is not None
    )
    usage = completion.usage
    return ChatReply(
        content=choice.message.content,
        tool_calls=calls,
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
        finish_reason=choice.finish_reason,
        retries=count.retries,
        retry_seconds=round(count.waited, 3),
    )


class LocalChat(OpenAIChat):
    """The embedded model, started on first use and shared with everything else in the process.

    ``cache_prompt`` lets llama.cpp reuse the computed prefix of an earlier prompt (a
    multi-step agent resends its whole conversation each step: 5-10x faster on two
    cores). Reuse changes the numerics slightly, so the same request asked twice
    may get a different reply; that is harmless wherever replies are cached (the
    agent and the judge), but the simulator turns it off.
    """

    def __init__(
        self, settings: Settings, *, timeout: float = 300.0, cache_prompt: bool = True
    ) -> None:
        from toolsim.llm.model_files import MODEL_NAME

        self._server = acquire_local_server(local_model_options(settings))
        super().__init__(
            self._server.endpoint,
            timeout=timeout,
            concurrency=settings.local_slots,
            extra_body={"cache_prompt": cache_prompt},
            name=MODEL_NAME,
            retry=RetryPolicy.from_settings(settings),
        )
        self._released = False

    async def aclose(self) -> None:
        """Close the client and drop this use of the shared server."""
        await super().aclose()
        if not self._released:
            self._released = True
            release_local_server(self._server)


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


ChatModelFactory = Callable[..., ChatModel]
_registry: dict[str, ChatModelFactory] = {}
_entry_points_loaded = False


def register_chat_model(name: str) -> Callable[[ChatModelFactory], ChatModelFactory]:
    """Register a factory under ``name``; it is called with ``role``, ``settings``, ``config``."""

    def decorate(factory: ChatModelFactory) -> ChatModelFactory:
        _registry[name] = factory
        return factory

    return decorate


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for point in entry_points(group="toolsim.chat_models"):
        _registry.setdefault(point.name, point.load())


def available_chat_models() -> list[str]:
    """Names of every registered chat-model backend."""
    _load_entry_points()
    return sorted(_registry)


@dataclass(frozen=True, slots=True)
class RoleConfig:
    """How one role (``agent`` or ``judge``) reaches its model."""

    backend: str = "auto"
    base_url: str | None = None
    model: str | None = None
    api_key: str = "none"
    timeout: float = 300.0
    concurrency: int = 4


def role_config(role: str, settings: Settings) -> RoleConfig:
    """Read ``TOOLSIM_<ROLE>_BACKEND|BASE_URL|MODEL|API_KEY|TIMEOUT`` from settings."""
    return RoleConfig(
        backend=getattr(settings, f"{role}_backend"),
        base_url=getattr(settings, f"{role}_base_url"),
        model=getattr(settings, f"{role}_model"),
        api_key=getattr(settings, f"{role}_api_key"),
        timeout=getattr(settings, f"{role}_timeout"),
        concurrency=getattr(settings, f"{role}_concurrency"),
    )


def create_chat_model(role: str, settings: Settings, *, cached: bool = True) -> ChatModel:
    """The chat model a role is configured to use, cached under ``home/llm-cache`` by default.

    ``auto`` means ``openai`` when the role has a base URL, else the embedded ``local`` model.
    """
    config = role_config(role, settings)
    backend = config.backend
    if backend == "auto":
        backend = "openai" if config.base_url else "local"
    _load_entry_points()
    factory = _registry.get(backend)
    if factory is None:
        raise UserError(
            f"unknown {role} model backend {backend!r}; available: "
            + ", ".join(["auto", *available_chat_models()])
        )
    model = factory(role=role, settings=settings, config=config)
    if not cached:
        return model
    return CachedChat(model, settings.home / "llm-cache")


@register_chat_model("openai")
def _openai_chat(*, role: str, settings: Settings, config: RoleConfig) -> ChatModel:
    if not config.base_url:
        raise UserError(f"the openai {role} model needs TOOLSIM_{role.upper()}_BASE_URL")
    if not config.model:
        raise UserError(
            f"set TOOLSIM_{role.upper()}_MODEL to the model's name at {config.base_url}"
        )
    return OpenAIChat(
        Endpoint(base_url=config.base_url, model=config.model, api_key=config.api_key),
        timeout=config.timeout,
        concurrency=config.concurrency,
        retry=RetryPolicy.from_settings(settings),
    )


@register_chat_model("local")
def _local_chat(*, role: str, settings: Settings, config: RoleConfig) -> ChatModel:
    return LocalChat(settings, timeout=config.timeout)

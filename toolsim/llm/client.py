"""The one OpenAI-compatible client of every role: simulator, agent and judge.

Everything that talks to a ``/v1`` endpoint lives here, once:

* transient failures (429, 5xx, connection, timeout) are re-sent unchanged
  (:mod:`toolsim.llm.retry`);
* a server that rejects a ``response_format`` gets the next weaker one
  (:data:`RESPONSE_FORMATS`), and the client remembers what the server accepts;
* a model name that is not configured is asked from ``/v1/models``;
* every failure becomes a toolsim error (:class:`LLMUnavailable`,
  :class:`RequestRejected`, :class:`UpstreamError`) whose message quotes at most
  :data:`ERROR_TEXT_CHARS` characters of what the server said.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import openai

from toolsim.errors import UpstreamError
from toolsim.llm.chat import ChatReply, ChatRequest, ToolCall
from toolsim.llm.endpoint import Endpoint, EndpointSource, LLMUnavailable, RequestRejected
from toolsim.llm.local import acquire_local_server, local_model_options, release_local_server
from toolsim.llm.responses import chat_messages, responses_arguments, responses_reply
from toolsim.llm.retry import RetryCount, send_with_retries
from toolsim.redact import redacted
from toolsim.settings import RetrySettings, Settings

#: How a reply is constrained, strongest first; a server that rejects one gets the next.
RESPONSE_FORMATS = ("json_schema", "json_object", "none")

#: The wire formats of the client: Chat Completions (the default) or the Responses API.
APIS = ("chat", "responses")

#: The most of a server's own text (an error, a body that is not JSON) an error message quotes.
ERROR_TEXT_CHARS = 300

#: Seconds to wait for ``/v1/models`` when asking a server for its model's name.
DISCOVERY_TIMEOUT = 10.0


def quoted(text: object) -> str:
    """A server's or library's text for a message: cut to :data:`ERROR_TEXT_CHARS`."""
    text = str(text)
    return text if len(text) <= ERROR_TEXT_CHARS else text[: ERROR_TEXT_CHARS - 3] + "..."


class OpenAIChat:
    """A model behind an OpenAI-compatible ``/v1/chat/completions`` endpoint.

    Args:
        endpoint: Where the model is, or an async function that starts or finds it on
            first use. An endpoint without a model name gets the first model the
            server lists.
        timeout: Seconds for one HTTP request.
        concurrency: Requests in flight at once.
        extra_body: Server-specific request fields sent with every request.
        name: The model's name in cache keys and records; required when the endpoint's
            own name is not known up front (a lazy endpoint, or one to discover).
        retry: How transient failures are re-sent.
        response_format: The strongest response format this server is sent
            (``json_schema``, ``json_object`` or ``none``).
        api: ``chat`` (``/v1/chat/completions``) or ``responses`` (``/v1/responses``,
            see :mod:`toolsim.llm.responses`).
    """

    def __init__(
        self,
        endpoint: Endpoint | EndpointSource,
        *,
        timeout: float = 120.0,
        concurrency: int = 4,
        extra_body: dict[str, Any] | None = None,
        name: str | None = None,
        retry: RetrySettings | None = None,
        response_format: str = RESPONSE_FORMATS[0],
        api: str = APIS[0],
    ) -> None:
        if response_format not in RESPONSE_FORMATS:
            raise ValueError(f"response_format must be one of {', '.join(RESPONSE_FORMATS)}")
        if api not in APIS:
            raise ValueError(f"api must be one of {', '.join(APIS)}")
        self.api = api
        self._source = endpoint
        self._endpoint = endpoint if isinstance(endpoint, Endpoint) and endpoint.model else None
        # Cache lookups happen before any connection, so the name must be known now.
        self.name = name or (self._endpoint.model if self._endpoint else "")
        if not self.name:
            raise ValueError("an endpoint whose model is not known yet needs an explicit name")
        self.timeout = timeout
        self.extra_body = extra_body or {}
        self.retry = retry or RetrySettings()
        self.response_format = response_format
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
                # Retries are ours (one policy for every role), so the client makes none.
                client = openai.AsyncOpenAI(
                    base_url=endpoint.base_url,
                    api_key=endpoint.api_key,
                    timeout=self.timeout,
                    max_retries=0,
                )
                if not endpoint.model:
                    try:
                        endpoint = replace(endpoint, model=await _discover(client, endpoint))
                    except BaseException:
                        await client.close()
                        raise
                self._client, self._endpoint = client, endpoint
            assert self._endpoint is not None
            return self._client, self._endpoint

    async def complete(
        self,
        request: ChatRequest,
        *,
        deadline: float | None = None,
    ) -> ChatReply:
        """Send the request (retrying transient failures until ``deadline``, a monotonic time).

        A rejected response format is stepped down without counting as a retry.

        Raises :class:`LLMUnavailable` when the endpoint cannot be reached,
        :class:`RequestRejected` for HTTP 400, :class:`UpstreamError` otherwise; each
        with ``retries`` and ``waited`` in its details.
        """
        async with self._slots:
            client, endpoint = await self._connect()
            count = RetryCount()
            while True:
                sent = self.response_format
                arguments = self._arguments(request, endpoint, sent)
                create = (
                    client.responses.create
                    if self.api == "responses"
                    else client.chat.completions.create
                )

                async def send(arguments: dict[str, Any] = arguments, create: Any = create) -> Any:
                    self.requests += 1
                    return await create(**arguments)

                try:
                    completion = await send_with_retries(send, self.retry, count, deadline=deadline)
                except Exception as exc:
                    if self._step_down(exc, request, sent):
                        continue
                    raise _failure(exc, endpoint, self.timeout, count) from None
                break
        if self.api == "responses":
            reply = responses_reply(_parsed(completion))
            reply = replace(reply, retries=count.retries, retry_seconds=round(count.waited, 3))
        else:
            reply = _reply(completion, count)
        self.prompt_tokens += reply.prompt_tokens
        self.completion_tokens += reply.completion_tokens
        return reply

    def _arguments(
        self,
        request: ChatRequest,
        endpoint: Endpoint,
        strongest: str,
    ) -> dict[str, Any]:
        response_format = _constrained(request.response_format, strongest)
        if self.api == "responses":
            arguments = responses_arguments(request, endpoint.model or "", response_format)
            if self.extra_body:
                arguments["extra_body"] = self.extra_body
            return arguments
        arguments = {
            "model": endpoint.model,
            "messages": chat_messages(request.messages),
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "extra_body": self.extra_body or None,
        }
        if request.tools:
            arguments["tools"] = list(request.tools)
        if response_format is not None:
            arguments["response_format"] = response_format
        if request.seed is not None:
            arguments["seed"] = request.seed
        return arguments

    def _step_down(self, exc: Exception, request: ChatRequest, sent: str) -> bool:
        """Whether ``exc`` rejects the response format, so the request goes again weaker."""
        if not isinstance(exc, openai.BadRequestError) or sent == RESPONSE_FORMATS[-1]:
            return False
        if _constrained(request.response_format, sent) is None:
            return False
        said = str(exc).lower()
        if "response_format" not in said and "text.format" not in said:
            return False
        # Step down from what this request sent, so that concurrent rejections of one
        # format step down once, not once each.
        if self.response_format == sent:
            self.response_format = RESPONSE_FORMATS[RESPONSE_FORMATS.index(sent) + 1]
        return True

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.close()
            self._client = None


def _constrained(response_format: dict[str, Any] | None, strongest: str) -> dict[str, Any] | None:
    """The response format to send: the one asked for, weakened to ``strongest`` at most."""
    if response_format is None:
        return None
    asked = response_format.get("type")
    if asked not in RESPONSE_FORMATS or RESPONSE_FORMATS.index(asked) >= RESPONSE_FORMATS.index(
        strongest
    ):
        return response_format
    if strongest == "json_object":
        return {"type": "json_object"}
    return None


async def _discover(client: openai.AsyncOpenAI, endpoint: Endpoint) -> str:
    """The first model a server lists: vLLM and llama.cpp serve exactly one.

    Not retried: a server that is down when first asked is reported at once.
    """
    try:
        models = await client.with_options(timeout=DISCOVERY_TIMEOUT).models.list()
    except openai.APIError as exc:
        raise LLMUnavailable(
            f"cannot list models at {redacted(endpoint.base_url)}: {quoted(exc)}"
        ) from None
    if not models.data:
        raise LLMUnavailable(f"{redacted(endpoint.base_url)} serves no model; set the model's name")
    return models.data[0].id


def _failure(exc: Exception, endpoint: Endpoint, timeout: float, count: RetryCount) -> Exception:
    """The toolsim error a failed request becomes (other exceptions pass through)."""
    details = {"retries": count.retries, "waited": round(count.waited, 3)}
    after = f" (after {count.retries} retries)" if count.retries else ""
    if isinstance(exc, openai.APITimeoutError):
        return UpstreamError(f"the model did not answer within {timeout:g} s{after}", **details)
    if isinstance(exc, openai.APIConnectionError):
        return LLMUnavailable(
            f"cannot reach the model at {redacted(endpoint.base_url)}{after}: {quoted(exc)}",
            **details,
        )
    if isinstance(exc, openai.BadRequestError):
        return RequestRejected(f"the model endpoint rejected the request: {quoted(exc)}", **details)
    if isinstance(exc, openai.APIStatusError):
        return UpstreamError(
            f"the model endpoint answered HTTP {exc.status_code}{after}: {quoted(exc)}",
            **details,
        )
    if isinstance(exc, json.JSONDecodeError | openai.APIResponseValidationError):
        return UpstreamError(
            f"the model endpoint answered malformed JSON: {quoted(exc)}", **details
        )
    return exc


def _parsed(body: Any) -> Any:
    """``body``, unless the client handed back one that is not JSON."""
    if isinstance(body, str):
        # The client hands back a body that is not JSON (a web page at the wrong URL) as text.
        raise UpstreamError(f"the model endpoint did not answer with JSON: {quoted(repr(body))}")
    return body


def _reply(completion: Any, count: RetryCount) -> ChatReply:
    completion = _parsed(completion)
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
            concurrency=settings.local.slots,
            extra_body={"cache_prompt": cache_prompt},
            name=MODEL_NAME,
            retry=settings.retry,
        )
        self._released = False

    async def aclose(self) -> None:
        """Close the client and drop this use of the shared server."""
        await super().aclose()
        if not self._released:
            self._released = True
            release_local_server(self._server)

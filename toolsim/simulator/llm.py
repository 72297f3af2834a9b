"""The ``openai`` simulator: a model behind any OpenAI-compatible endpoint plays the API.

Works with vLLM, llama.cpp's server, OpenAI and anything else that speaks
``/v1/chat/completions``. Output is constrained with ``response_format`` (a JSON
schema of the reply) where the server supports it and validated either way; a
reply that is still invalid after the last attempt is an error, never cached.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import openai

from toolsim.errors import UpstreamError
from toolsim.llm.endpoint import Endpoint, EndpointSource, LLMUnavailable
from toolsim.simulator.base import Simulation, SimulationRequest
from toolsim.simulator.prompt import PromptTemplates
from toolsim.simulator.reply_schema import parse_reply, reply_schema

#: How the reply is constrained, strongest first; a server that rejects one gets the next.
RESPONSE_FORMATS = ("json_schema", "json_object", "none")

#: Sampling temperature of retries after invalid output.
RETRY_TEMPERATURE = 0.5


@dataclass(frozen=True, slots=True)
class LLMOptions:
    """Sampling and robustness settings of an LLM simulator."""

    timeout: float = 120.0
    attempts: int = 3
    temperature: float = 0.0
    seed: int | None = 42
    max_tokens: int = 768
    concurrency: int = 4
    response_format: str = "json_schema"
    examples: int = 5
    examples_chars: int = 2000
    #: Longest list in a reply (the schema's maxItems): every item costs generation time.
    max_items: int = 10
    #: Server-specific request fields (e.g. llama.cpp's ``cache_prompt``).
    extra_body: tuple[tuple[str, Any], ...] = ()
    #: Take the first JSON object of the output, repaired (fine-tuned simulators' own format).
    lenient_json: bool = False


class LLMSimulator:
    """Answers a call by asking a chat model to play the API."""

    def __init__(
        self,
        endpoint: Endpoint | EndpointSource,
        *,
        options: LLMOptions | None = None,
        prompts: PromptTemplates | None = None,
        name: str = "openai",
    ) -> None:
        self.name = name
        self.options = options or LLMOptions()
        if self.options.response_format not in RESPONSE_FORMATS:
            raise ValueError(f"response_format must be one of {', '.join(RESPONSE_FORMATS)}")
        self.prompts = prompts or PromptTemplates.load()
        self.example_count = self.options.examples
        self.example_chars = self.options.examples_chars
        self._endpoint_source = endpoint
        self._client: openai.AsyncOpenAI | None = None
        self._endpoint: Endpoint | None = None
        self._connect_lock = asyncio.Lock()
        self._slots = asyncio.Semaphore(self.options.concurrency)
        self._format = self.options.response_format
        self.calls = 0  # model requests sent, for benchmarks and tests
        self.in_flight = 0  # simulations waiting on the model right now

    async def _connect(self) -> tuple[openai.AsyncOpenAI, Endpoint]:
        async with self._connect_lock:
            if self._client is None or self._endpoint is None:
                source = self._endpoint_source
                endpoint = source if isinstance(source, Endpoint) else await source()
                # Retries are ours (they must fit in the timeout), so the client makes none.
                self._client = openai.AsyncOpenAI(
                    base_url=endpoint.base_url,
                    api_key=endpoint.api_key,
                    timeout=self.options.timeout,
                    max_retries=0,
                )
                self._endpoint = endpoint
            return self._client, self._endpoint

    async def simulate(self, request: SimulationRequest) -> Simulation:
        """Ask the model for a reply; raise :class:`UpstreamError` if none is valid in time.

        The timeout covers the model's work, not the wait for a free slot: a
        queued miss is not failed for a model it never reached. (The server's
        per-request limit bounds the whole call.)
        """
        async with self._slots:
            self.in_flight += 1
            started = time.monotonic()
            try:
                async with asyncio.timeout(self.options.timeout):
                    client, endpoint = await self._connect()
                    reply = await self._attempts(client, endpoint, request)
            except TimeoutError:
                raise UpstreamError(
                    f"the model did not answer within {self.options.timeout:g} s",
                    elapsed=round(time.monotonic() - started, 3),
                ) from None
            finally:
                self.in_flight -= 1
        return Simulation(
            reply=reply,
            simulator=self.name,
            model=endpoint.model,
            prompt_hash=self.prompts.hash,
            examples=tuple(key for key, _entry in request.examples),
        )

    async def _attempts(
        self, client: openai.AsyncOpenAI, endpoint: Endpoint, request: SimulationRequest
    ) -> Any:
        messages = self.prompts.render(
            request.api,
            request.arguments,
            tuple(entry for _key, entry in request.examples),
            request.known,
        )
        schema = reply_schema(request.api.template_response, self.options.max_items)
        last: UpstreamError | None = None
        for attempt in range(self.options.attempts):
            try:
                text = await self._complete(client, endpoint, messages, schema, attempt)
                final = attempt == self.options.attempts - 1
                return parse_reply(text, lenient=self.options.lenient_json, last=final)
            except LLMUnavailable:
                raise
            except UpstreamError as exc:
                last = exc
        assert last is not None
        raise UpstreamError(
            f"no valid reply after {self.options.attempts} attempts: {last.message}",
            model=endpoint.model,
        )

    async def _complete(
        self,
        client: openai.AsyncOpenAI,
        endpoint: Endpoint,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        attempt: int = 0,
    ) -> str | None:
        extra: dict[str, Any] = {}
        sent = self._format
        if sent == "json_schema":
            extra["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "api_reply", "schema": schema, "strict": True},
            }
        elif sent == "json_object":
            extra["response_format"] = {"type": "json_object"}
        temperature = self.options.temperature
        if self.options.seed is not None:
            extra["seed"] = self.options.seed + attempt
        if attempt:
            # At temperature 0 a retry would repeat the invalid output exactly;
            # a retry samples (reproducibly: the seed moves with the attempt).
            temperature = max(temperature, RETRY_TEMPERATURE)
        self.calls += 1
        try:
            completion = await client.chat.completions.create(
                model=endpoint.model,
                messages=messages,  # type: ignore[arg-type]
                temperature=temperature,
                max_tokens=self.options.max_tokens,
                extra_body=dict(self.options.extra_body) or None,
                **extra,
            )
        except openai.APIConnectionError as exc:
            if isinstance(exc, openai.APITimeoutError):
                raise UpstreamError("the model request timed out") from None
            raise LLMUnavailable(f"cannot reach the model at {endpoint.base_url}: {exc}") from None
        except openai.BadRequestError as exc:
            if sent != "none" and "response_format" in str(exc).lower():
                # This server cannot constrain output that way: ask again the next, weaker
                # way, without using up an attempt. Step down from what this request sent,
                # so concurrent rejections of one format step down once, not once each.
                if self._format == sent:
                    self._format = RESPONSE_FORMATS[RESPONSE_FORMATS.index(sent) + 1]
                return await self._complete(client, endpoint, messages, schema, attempt)
            raise UpstreamError(f"the model endpoint rejected the request: {exc}") from None
        except openai.APIStatusError as exc:
            raise UpstreamError(
                f"the model endpoint answered HTTP {exc.status_code}: {str(exc)[:200]}"
            ) from None
        except (json.JSONDecodeError, openai.APIResponseValidationError) as exc:
            raise UpstreamError(f"the model endpoint answered malformed JSON: {exc}") from None
        if isinstance(completion, str):
            # The client hands back a body that is not JSON (a web page at the wrong URL) as text.
            raise UpstreamError(
                f"the model endpoint did not answer with JSON: {completion[:200]!r}"
            )
        if not completion.choices:
            raise UpstreamError("the model endpoint returned no choices")
        return completion.choices[0].message.content

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.close()
            self._client = None

"""The ``openai`` simulator: a model behind any OpenAI-compatible endpoint plays the API.

Works with vLLM, llama.cpp's server, OpenAI and anything else that speaks
``/v1/chat/completions``, through the same client as the agent and the judge
(:class:`~toolsim.llm.OpenAIChat`: its retry policy for transient failures, its
response-format step-down, its model discovery). Output is constrained with
``response_format`` (a JSON schema of the reply) where the server supports it
and validated either way; invalid output is sampled again, and a reply that is
still invalid after the last attempt is an error, never cached.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from toolsim.errors import UpstreamError
from toolsim.llm.chat import ChatRequest
from toolsim.llm.client import OpenAIChat
from toolsim.llm.endpoint import Endpoint, EndpointSource, LLMUnavailable
from toolsim.settings import RetrySettings, SimulatorSettings
from toolsim.simulator.base import Simulation, SimulationRequest
from toolsim.simulator.cold_start import response_template
from toolsim.simulator.model_reply import parse_reply, reply_schema
from toolsim.simulator.prompt import PromptTemplates

__all__ = ["Endpoint", "LLMSimulator", "LLMUnavailable"]


#: The least temperature of a new attempt after invalid output (at 0 it would repeat it).
RESAMPLE_TEMPERATURE = 0.5


class LLMSimulator:
    """Answers a call by asking a chat model to play the API.

    Args:
        endpoint: The model's endpoint (or where to find it).
        options: The simulator's settings (sampling, attempts, examples, limits).
        retry: How transient failures (429, 5xx, connection, timeout) are re-sent.
        extra_body: Server-specific request fields (e.g. llama.cpp's ``cache_prompt``).
        prompts: The prompt templates; default the built-in ones.
        name: The name provenance and errors give this simulator.
        valid_calls_succeed: The model must answer a call with data (no error), in the
            documented shape or, without one, an inferred shape: a call reaches the
            simulator only once its arguments are valid, and a model too small to judge a
            call (the embedded one) otherwise invents outages.
    """

    def __init__(
        self,
        endpoint: Endpoint | EndpointSource,
        *,
        options: SimulatorSettings | None = None,
        retry: RetrySettings | None = None,
        extra_body: Mapping[str, Any] | None = None,
        prompts: PromptTemplates | None = None,
        name: str = "openai",
        valid_calls_succeed: bool = False,
    ) -> None:
        self.name = name
        self.valid_calls_succeed = valid_calls_succeed
        self.options = options or SimulatorSettings()
        self.prompts = prompts or PromptTemplates.load()
        self.example_count = self.options.examples
        self.example_chars = self.options.examples_chars
        self.chat = OpenAIChat(
            endpoint,
            timeout=self.options.timeout,
            concurrency=self.options.concurrency,
            name=name,
            retry=retry,
            response_format=self.options.response_format,
            extra_body=dict(extra_body or {}),
            api=self.options.api,
        )
        self._slots = asyncio.Semaphore(self.options.concurrency)
        self.in_flight = 0  # simulations waiting on the model right now

    @property
    def calls(self) -> int:
        """Model requests sent (retries included), for benchmarks and tests."""
        return self.chat.requests

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
                    endpoint = await self.chat.endpoint()
                    reply = await self._attempts(
                        request, endpoint.model, started + self.options.timeout
                    )
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

    async def _attempts(self, request: SimulationRequest, model: str, deadline: float) -> Any:
        messages = self.prompts.render(
            request.api,
            request.arguments,
            tuple(entry for _key, entry in request.examples),
            request.known,
        )
        succeed = self.valid_calls_succeed
        template = response_template(request.api) if succeed else request.api.template_response
        schema = reply_schema(template, self.options.max_items, errors=not succeed)
        last: UpstreamError | None = None
        for attempt in range(self.options.attempts):
            # A failed request is an error as it is (transient ones were already re-sent);
            # only invalid output is a reason to sample again.
            text = await self._complete(messages, schema, attempt, deadline)
            try:
                final = attempt == self.options.attempts - 1
                return parse_reply(
                    text, lenient=self.options.lenient_json, last=final, errors=not succeed
                )
            except UpstreamError as exc:
                last = exc
        assert last is not None
        raise UpstreamError(
            f"no valid reply after {self.options.attempts} attempts: {last.message}",
            model=model,
        )

    def _request(
        self, messages: list[dict[str, str]], schema: dict[str, Any], attempt: int
    ) -> ChatRequest:
        temperature = self.options.temperature
        if attempt:
            # At temperature 0 a new attempt would repeat the invalid output exactly;
            # it samples (reproducibly: the seed moves with the attempt).
            temperature = max(temperature, RESAMPLE_TEMPERATURE)
        seed = self.options.seed
        return ChatRequest(
            messages=tuple(messages),
            # The strongest constraint; the client steps down where the server rejects it.
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "api_reply", "schema": schema, "strict": True},
            },
            temperature=temperature,
            seed=None if seed is None else seed + attempt,
            max_tokens=self.options.max_tokens,
        )

    async def _complete(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        attempt: int,
        deadline: float,
    ) -> str | None:
        reply = await self.chat.complete(
            self._request(messages, schema, attempt), deadline=deadline
        )
        return reply.content

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.chat.aclose()

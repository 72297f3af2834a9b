"""The built-in simulators' factories: each builds one from :class:`Settings`.

* ``schema``: deterministic synthesis from the response template (no model).
* ``openai``: a model at ``TOOLSIM_LLM_BASE_URL`` (vLLM, OpenAI, llama.cpp, ...).
* ``local``: the embedded model, started in-process on the first miss.
* ``upstream``: a real API relay at ``TOOLSIM_UPSTREAM_URL`` only.
* ``auto`` (the default): upstream if configured, then ``openai`` if an endpoint
  is configured or else ``local``, then ``schema`` if ``TOOLSIM_SCHEMA_FALLBACK``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import openai

from toolsim.errors import UserError
from toolsim.llm.local import (
    LocalModelServer,
    acquire_local_server,
    local_model_options,
    release_local_server,
)
from toolsim.llm.retry import RetryPolicy
from toolsim.settings import Settings
from toolsim.simulator.base import Simulator, register_simulator
from toolsim.simulator.chain import FallbackChain
from toolsim.simulator.llm import Endpoint, LLMOptions, LLMSimulator, LLMUnavailable
from toolsim.simulator.prompt import PromptTemplates
from toolsim.simulator.schema import SchemaSimulator
from toolsim.simulator.upstream import UpstreamRelay


def llm_options(settings: Settings) -> LLMOptions:
    """The LLM simulator options a settings object describes."""
    return LLMOptions(
        timeout=settings.llm_timeout,
        attempts=settings.llm_attempts,
        temperature=settings.llm_temperature,
        seed=settings.llm_seed,
        max_tokens=settings.llm_max_tokens,
        concurrency=settings.llm_concurrency,
        response_format=settings.llm_response_format,
        examples=settings.examples,
        examples_chars=settings.examples_chars,
        max_items=settings.llm_max_items,
        retry=RetryPolicy.from_settings(settings),
        lenient_json=settings.llm_lenient_json,
    )


def _remote_endpoint(settings: Settings):  # noqa: ANN202 - returns an EndpointSource
    base_url = settings.llm_base_url
    if not base_url:
        raise UserError("the openai simulator needs TOOLSIM_LLM_BASE_URL")

    async def endpoint() -> Endpoint:
        model = settings.llm_model
        if not model:
            # vLLM and llama.cpp serve one model: ask for its name.
            client = openai.AsyncOpenAI(
                base_url=base_url, api_key=settings.llm_api_key, max_retries=0, timeout=10
            )
            try:
                models = await client.models.list()
            except openai.APIError as exc:
                raise LLMUnavailable(f"cannot list models at {base_url}: {exc}") from None
            finally:
                await client.close()
            if not models.data:
                raise LLMUnavailable(f"{base_url} serves no model; set TOOLSIM_LLM_MODEL")
            model = models.data[0].id
        return Endpoint(base_url=base_url, model=model, api_key=settings.llm_api_key)

    return endpoint


@register_simulator("openai")
def openai_simulator(settings: Settings | None = None, **_: Any) -> LLMSimulator:
    """A model at an OpenAI-compatible endpoint."""
    settings = settings or Settings()
    return LLMSimulator(
        _remote_endpoint(settings),
        options=llm_options(settings),
        prompts=PromptTemplates.load(settings.prompt_dir),
        name="openai",
    )


class LocalSimulator(LLMSimulator):
    """The LLM simulator on the embedded model; stops the model server on close."""

    def __init__(self, server: LocalModelServer, **kwargs: Any) -> None:
        super().__init__(server.endpoint, name="local", **kwargs)
        self.server = server

    async def aclose(self) -> None:
        """Close the client and stop the model server, unless a request is still running.

        llama.cpp's server deadlocks when released mid-request, so with requests
        in flight it is left to end with the process.
        """
        busy = self.in_flight > 0
        await super().aclose()
        release_local_server(self.server, stop=not busy)


#: Longest list the local model writes in a reply: each item costs it seconds on a CPU.
LOCAL_MAX_ITEMS = 3


@register_simulator("local")
def local_simulator(settings: Settings | None = None, **_: Any) -> LocalSimulator:
    """The embedded SmolLM2 model on an in-process llama.cpp server."""
    settings = settings or Settings()
    server = acquire_local_server(local_model_options(settings))
    # Reusing a cached prompt prefix changes llama.cpp's numerics slightly, so
    # the same call could get a different reply; recomputing keeps it repeatable.
    options = replace(
        llm_options(settings),
        extra_body=(("cache_prompt", False),),
        max_items=min(settings.llm_max_items, LOCAL_MAX_ITEMS),
    )
    return LocalSimulator(
        server, options=options, prompts=PromptTemplates.load(settings.prompt_dir)
    )


@register_simulator("upstream")
def upstream_simulator(settings: Settings | None = None, **_: Any) -> UpstreamRelay:
    """A real API relay only (misses it cannot answer are errors)."""
    settings = settings or Settings()
    if not settings.upstream_url:
        raise UserError("the upstream simulator needs TOOLSIM_UPSTREAM_URL (--upstream)")
    return UpstreamRelay(settings.upstream_url, timeout=settings.upstream_timeout)


@register_simulator("auto")
def auto_simulator(settings: Settings | None = None, **_: Any) -> Simulator:
    """Upstream (if configured) -> LLM (remote if configured, else local) -> schema (if allowed)."""
    settings = settings or Settings()
    llm = openai_simulator(settings) if settings.llm_base_url else local_simulator(settings)
    upstream = upstream_simulator(settings) if settings.upstream_url else None
    fallback = SchemaSimulator() if settings.schema_fallback else None
    if upstream is None and fallback is None:
        return llm
    return FallbackChain(llm, upstream=upstream, fallback=fallback)

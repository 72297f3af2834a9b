"""The built-in simulators' factories: each builds one from :class:`Settings`.

* ``schema``: deterministic synthesis from the response template (no model).
* ``openai``: a model at ``TOOLSIM_SIMULATOR__BASE_URL`` (vLLM, OpenAI, llama.cpp, ...).
* ``local``: the embedded model, started in-process on the first miss.
* ``upstream``: the real tools only: OpenAPI and MCP servers, and for ToolBench
  APIs the relay at ``TOOLSIM_UPSTREAM__URL`` (see :mod:`toolsim.simulator.upstream`).
* ``auto`` (the default): upstream if configured, then ``openai`` if an endpoint
  is configured or else ``local``, then ``schema`` if ``TOOLSIM_SIMULATOR__SCHEMA_FALLBACK``.
"""

from __future__ import annotations

from typing import Any

from toolsim.errors import UserError
from toolsim.llm.local import (
    LocalModelServer,
    acquire_local_server,
    local_model_options,
    release_local_server,
)
from toolsim.settings import Settings, role_variable
from toolsim.simulator.base import Simulator
from toolsim.simulator.chain import FallbackChain
from toolsim.simulator.llm import Endpoint, LLMSimulator
from toolsim.simulator.prompt import PromptTemplates
from toolsim.simulator.template_filler import SchemaSimulator
from toolsim.simulator.upstream import OpenApiCaller, RealTools, UpstreamRelay


def openai_simulator(*, settings: Settings, **_: Any) -> LLMSimulator:
    """A model at an OpenAI-compatible endpoint (its name asked from the server if unset)."""
    simulator = settings.simulator
    if not simulator.base_url:
        raise UserError(f"the openai simulator needs {role_variable('simulator', 'base_url')}")
    endpoint = Endpoint(
        base_url=simulator.base_url, model=simulator.model or "", api_key=simulator.api_key
    )
    return LLMSimulator(
        endpoint,
        options=settings.simulator,
        retry=settings.retry,
        prompts=PromptTemplates.load(settings.simulator.prompt_dir),
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


def local_simulator(*, settings: Settings, **_: Any) -> LocalSimulator:
    """The embedded SmolLM2 model on an in-process llama.cpp server."""
    server = acquire_local_server(local_model_options(settings))
    # Reusing a cached prompt prefix changes llama.cpp's numerics slightly, so
    # the same call could get a different reply; recomputing keeps it repeatable.
    simulator = settings.simulator
    return LocalSimulator(
        server,
        options=simulator.model_copy(
            update={"max_items": min(simulator.max_items, LOCAL_MAX_ITEMS)}
        ),
        retry=settings.retry,
        extra_body={"cache_prompt": False},
        prompts=PromptTemplates.load(simulator.prompt_dir),
    )


def relay(settings: Settings) -> UpstreamRelay | None:
    """The StableToolBench relay at ``TOOLSIM_UPSTREAM__URL``, if one is set."""
    if not settings.upstream.url:
        return None
    return UpstreamRelay(settings.upstream.url, timeout=settings.upstream.timeout)


def upstream_simulator(*, settings: Settings, **_: Any) -> RealTools:
    """The real tools only (misses they cannot answer are errors)."""
    real = settings.real_tools
    openapi = OpenApiCaller(
        server=real.openapi_server,
        headers=real.headers,
        params=real.params,
        timeout=settings.upstream.timeout,
    )
    return RealTools(
        relay=relay(settings),
        openapi=openapi,
        mcp_headers=real.headers,
        timeout=settings.upstream.timeout,
    )


def auto_simulator(*, settings: Settings, **_: Any) -> Simulator:
    """Upstream (if configured) -> LLM (remote if configured, else local) -> schema (if allowed)."""
    remote = settings.simulator.base_url
    llm = openai_simulator(settings=settings) if remote else local_simulator(settings=settings)
    upstream = relay(settings)
    fallback = SchemaSimulator() if settings.simulator.schema_fallback else None
    if upstream is None and fallback is None:
        return llm
    return FallbackChain(llm, upstream=upstream, fallback=fallback)

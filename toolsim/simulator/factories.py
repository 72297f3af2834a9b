"""The built-in simulators' factories: each builds one from :class:`Settings`.

* ``schema``: deterministic synthesis from the response template (no model).
* ``openai``: a model at ``TOOLSIM_SIMULATOR__BASE_URL`` (vLLM, OpenAI, llama.cpp, ...).
* ``local``: the embedded model, started in-process on the first miss.
* ``upstream``: the real tools only: OpenAPI and MCP servers, and for ToolBench
  APIs the relay at ``TOOLSIM_UPSTREAM__URL`` (see :mod:`toolsim.simulator.upstream`).
* ``exemplar``: the nearest recorded reply of the API adapted to the call, else the
  schema simulator (offline, deterministic, no model).
* ``auto`` (the default): the relay if configured, then the nearest recorded reply
  adapted (when the API has one), then ``openai`` if an endpoint is configured or
  else ``local``, then ``schema`` if ``TOOLSIM_SIMULATOR__SCHEMA_FALLBACK``.
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
from toolsim.llm.model_files import MODEL_NAME
from toolsim.redact import redacted
from toolsim.settings import Settings, role_variable
from toolsim.simulator.base import Simulator
from toolsim.simulator.chain import FallbackChain
from toolsim.simulator.exemplar import ExemplarSimulator
from toolsim.simulator.llm import Endpoint, LLMSimulator
from toolsim.simulator.prompt import PromptTemplates
from toolsim.simulator.schema import SchemaSimulator
from toolsim.simulator.upstream import Credentials, OpenApiCaller, RealTools, UpstreamRelay


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
        # The 135M model cannot judge a call: it invented outages and wrote type names as
        # errors. The server validated the arguments already, so it must answer with data.
        valid_calls_succeed=True,
    )


def relay(settings: Settings) -> UpstreamRelay | None:
    """The StableToolBench relay at ``TOOLSIM_UPSTREAM__URL``, if one is set."""
    if not settings.upstream.url:
        return None
    return UpstreamRelay(settings.upstream.url, timeout=settings.upstream.timeout)


def upstream_simulator(*, settings: Settings, **_: Any) -> RealTools:
    """The real tools only (misses they cannot answer are errors)."""
    real = settings.real_tools
    credentials = Credentials(real.credentials, headers=real.headers, params=real.params)
    openapi = OpenApiCaller(
        server=real.openapi_server, credentials=credentials, timeout=settings.upstream.timeout
    )
    return RealTools(
        relay=relay(settings),
        openapi=openapi,
        mcp_headers=real.headers,
        timeout=settings.upstream.timeout,
    )


def exemplar_simulator(*, settings: Settings, **_: Any) -> ExemplarSimulator:
    """The nearest recorded reply adapted to the call, else the schema simulator."""
    del settings
    return ExemplarSimulator(fallback=SchemaSimulator())


def describe_simulator(settings: Settings) -> dict[str, Any]:
    """Who answers misses, as a run records it: the backend, and for a model its name,
    endpoint (without credentials), prompts' hash, and whether it is the embedded one."""
    config = settings.simulator
    described: dict[str, Any] = {"backend": config.backend}
    if config.backend not in ("auto", "openai", "local"):
        return described
    remote = config.base_url if config.backend != "local" else None
    if remote:
        described["endpoint"] = redacted(remote)
        described["model"] = config.model or "the endpoint's first model"
    else:
        described["model"] = MODEL_NAME
        described["embedded"] = True
    described["prompt_hash"] = PromptTemplates.load(config.prompt_dir).hash
    if settings.upstream.url and config.backend == "auto":
        described["upstream"] = redacted(settings.upstream.url)
    if config.backend == "auto" and not remote:
        # Before the embedded model: the nearest recorded reply of the API, adapted to the call.
        described["exemplars"] = "recorded replies adapted first"
    if config.schema_fallback and config.backend == "auto":
        described["fallback"] = "schema"
    return described


def auto_simulator(*, settings: Settings, **_: Any) -> Simulator:
    """Upstream (if configured) -> exemplar (offline only) -> LLM (remote if configured, else
    local) -> schema (if allowed).

    A remote model answers every miss itself, with recorded replies as its examples, as
    StableToolBench's server does: adapting a recorded reply first is what makes the
    offline default realistic, where the only model is the tiny embedded one.
    """
    remote = settings.simulator.base_url
    llm = openai_simulator(settings=settings) if remote else local_simulator(settings=settings)
    upstream = relay(settings)
    exemplar = None if remote else ExemplarSimulator()
    fallback = SchemaSimulator() if settings.simulator.schema_fallback else None
    return FallbackChain(llm, upstream=upstream, exemplar=exemplar, fallback=fallback)

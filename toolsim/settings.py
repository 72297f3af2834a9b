"""Settings: environment variables ``TOOLSIM_*``, overridden by command-line flags."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from toolsim.cache.modes import CacheMode

ONE_MIB = 1024 * 1024


class Settings(BaseSettings):
    """Everything a toolsim server or command can be configured with."""

    model_config = SettingsConfigDict(env_prefix="TOOLSIM_", extra="ignore")

    home: Path = Field(
        default=Path("~/.cache/toolsim"), description="Where caches and models are kept."
    )
    tools: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["example"],
        description="Tool folders / query files to load (comma-separated in the env var); "
        "'example' is the bundled suite.",
    )
    cache_url: str | None = Field(
        default=None, description="Cache backend URL; default diskcache under home/cache."
    )
    cache_mode: CacheMode = Field(default=CacheMode.RECORD, description="record|replay|refresh|off")
    simulator: str = Field(
        default="auto",
        description="Simulator for cache misses: auto (upstream -> LLM -> optional schema), "
        "openai, local, schema, or a plug-in name.",
    )
    upstream_url: str | None = Field(
        default=None, description="A real StableToolBench/ToolBench API relay tried first."
    )
    upstream_timeout: float = Field(default=30.0, gt=0)
    schema_fallback: bool = Field(
        default=False,
        description="Answer with the schema simulator when the LLM is unavailable.",
    )
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint; unset means the local model."
    )
    llm_model: str | None = Field(default=None, description="Model name at the endpoint.")
    llm_api_key: str = Field(default="none", repr=False)
    llm_timeout: float = Field(default=120.0, gt=0, description="Seconds for one simulation.")
    llm_attempts: int = Field(default=3, ge=1, le=10)
    llm_temperature: float = Field(default=0.0, ge=0)
    llm_seed: int | None = 42
    llm_max_tokens: int = Field(default=768, ge=16)
    llm_concurrency: int = Field(default=4, ge=1, description="LLM calls in flight at once.")
    llm_response_format: str = Field(
        default="json_schema", description="json_schema | json_object | none"
    )
    llm_max_items: int = Field(
        default=10,
        ge=1,
        description="Longest list in a simulated reply (3 at most with the local model).",
    )
    llm_lenient_json: bool = Field(
        default=False,
        description="Read the first JSON object of the model's output, repaired, and an "
        "object without error/response as the response (fine-tuned simulators such as "
        "MirrorAPI); off: exactly one {error, response} object.",
    )
    examples: int = Field(default=5, ge=0, description="Cached replies shown as examples.")
    examples_chars: int = Field(default=2000, ge=0, description="Character budget of examples.")
    world: bool = Field(
        default=True,
        description="Keep an entity graph of stored replies and reconcile simulated replies "
        "with it, so the world does not contradict itself.",
    )
    prompt_dir: Path | None = Field(
        default=None, description="Folder whose system.txt/user.txt replace the built-in prompt."
    )
    agent_backend: str = Field(
        default="auto",
        description="The agent's model: auto (openai if TOOLSIM_AGENT_BASE_URL is set, else "
        "the embedded local model), openai, local, or a registered backend.",
    )
    agent_base_url: str | None = Field(default=None, description="The agent's endpoint.")
    agent_model: str | None = Field(default=None, description="Model name at the agent endpoint.")
    agent_api_key: str = Field(default="none", repr=False)
    agent_timeout: float = Field(default=300.0, gt=0, description="Seconds for one agent step.")
    agent_concurrency: int = Field(default=4, ge=1, description="Agent model calls at once.")
    judge_backend: str = Field(
        default="auto",
        description="The judge: auto (openai if TOOLSIM_JUDGE_BASE_URL is set, else learned), "
        "learned, openai, local (the embedded model), or a registered judge or chat backend.",
    )
    judge_learned_model: Path | None = Field(
        default=None,
        description="A folder written by `toolsim judge train` for the learned judge; "
        "default: the model shipped with toolsim.",
    )
    judge_base_url: str | None = Field(default=None, description="The judge's endpoint.")
    judge_model: str | None = Field(default=None, description="Model name at the judge endpoint.")
    judge_api_key: str = Field(default="none", repr=False)
    judge_timeout: float = Field(default=300.0, gt=0, description="Seconds for one verdict.")
    judge_concurrency: int = Field(default=4, ge=1, description="Judge model calls at once.")
    model_retries: int = Field(
        default=6,
        ge=0,
        le=20,
        description="Re-sends of a model request (simulator, agent, judge) after a 429, a 5xx, "
        "a connection error or a timeout; the same request each time.",
    )
    model_retry_base: float = Field(
        default=1.0, ge=0, description="Seconds of the first wait; each later one doubles."
    )
    model_retry_max: float = Field(
        default=60.0,
        ge=0,
        description="Longest single wait, and the most of a server's Retry-After honoured.",
    )
    local_threads: int = Field(default=2, ge=1)
    local_slots: int = Field(default=4, ge=1, description="Parallel sequences of the local model.")
    local_context: int = Field(
        default=16384, ge=512, description="Context of the local model, shared by its slots."
    )
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = Field(
        default=1, ge=1, description="Server processes (uvicorn workers) sharing the cache."
    )
    flight_lock_seconds: float = Field(
        default=180.0,
        gt=0,
        description="Longest one worker holds the shared per-call lock while it simulates a "
        "miss; other workers wait at most this long, then simulate anyway.",
    )
    max_body_bytes: int = Field(default=ONE_MIB, ge=1024, description="Largest request body.")
    memory_entries: int = Field(
        default=10_000, ge=0, description="Hot replies kept in process memory (0: none)."
    )
    replay_suggestions: int = Field(default=3, ge=0, le=20)
    stats_flush_seconds: float = Field(default=5.0, gt=0)
    auth_token: str | None = Field(
        default=None,
        repr=False,
        description="Bearer token every endpoint but /healthz then requires (never logged).",
    )
    request_timeout: float = Field(
        default=None,  # filled in by _default_request_timeout
        gt=0,
        validate_default=True,
        description="Seconds a request may take before it gets 504; must exceed the simulation "
        "budget (llm_timeout, plus upstream_timeout with an upstream). Default: 300, or that "
        "budget plus 30 if longer.",
    )
    access_log: bool = Field(default=False, description="One JSON line per request.")
    otel: bool = Field(
        default=False, description="FastAPI's OpenTelemetry tracing, metrics and logs."
    )

    @field_validator("tools", mode="before")
    @classmethod
    def _split_tools(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("auth_token", mode="after")
    @classmethod
    def _no_blank_token(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            # Failing closed: a blank token must not silently mean "no authentication".
            raise ValueError("must not be blank; unset TOOLSIM_AUTH_TOKEN to turn auth off")
        return value

    @field_validator("request_timeout", mode="before")
    @classmethod
    def _default_request_timeout(cls, value: object, info: ValidationInfo) -> object:
        return max(300.0, _simulation_budget(info) + 30.0) if value is None else value

    @field_validator("request_timeout", mode="after")
    @classmethod
    def _above_simulation_budget(cls, value: float, info: ValidationInfo) -> float:
        budget = _simulation_budget(info)
        if value <= budget:
            raise ValueError(
                f"must exceed the simulation budget of {budget:g} s (llm_timeout, plus "
                "upstream_timeout with an upstream), or slow simulations would always get 504"
            )
        return value

    @field_validator("home", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()


def _simulation_budget(info: ValidationInfo) -> float:
    """Seconds one simulation may take: the LLM's limit, plus the upstream's when one is set."""
    budget = float(info.data.get("llm_timeout", 0.0))
    if info.data.get("upstream_url"):
        budget += float(info.data.get("upstream_timeout", 0.0))
    return budget

"""Settings: environment variables ``TOOLSIM_*``, overridden by command-line flags.

Only the CLI and the app factory build :class:`Settings` from the environment;
library code is handed the settings (or the one group it needs). Besides
``home``, ``tools`` and ``world``, every setting belongs to a nested group whose
variables are spelt ``TOOLSIM_<GROUP>__<FIELD>``:

* ``simulator``, ``agent``, ``judge``: one group per role that talks to a model, of
  the same shape (backend, base URL, model, API key, timeout, concurrency, ...);
  the simulator's also holds how it prompts (examples, prompt folder, fallback);
* ``server``: the HTTP server (host, port, workers, limits, auth, logs);
* ``cache``: the replay cache's backend URL and mode;
* ``upstream``: the StableToolBench relay, and the time limit of every real call;
* ``real_tools``, ``faults``: real OpenAPI/MCP tools, and seeded fault profiles;
* ``retry``: how every model request is re-sent after a transient failure;
* ``local``: the embedded model's threads, slots and context.

The flat names of earlier versions (``TOOLSIM_CACHE_URL``, ``TOOLSIM_PORT``,
``TOOLSIM_LLM_BASE_URL``, ``TOOLSIM_AGENT_MODEL``, ...) are still read, as
environment variables and as keyword arguments (:data:`LEGACY_NAMES`), each with
a :class:`FutureWarning` once per process naming its replacement and the version
that removes it (:data:`LEGACY_REMOVED_IN`); where both spellings are set, the
nested one wins.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from toolsim.cache.modes import CacheMode

ONE_MIB = 1024 * 1024
PREFIX = "TOOLSIM_"
#: Separates a role from its setting in an environment variable: ``TOOLSIM_AGENT__MODEL``.
NESTED = "__"


class RoleSettings(BaseModel):
    """How one role reaches its model: the same fields for simulator, agent and judge."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: str = Field(
        default="auto",
        description="auto (openai with a base URL, else the embedded local model), openai, "
        "local, or a registered chat-model backend.",
    )
    base_url: str | None = Field(
        default=None, description="An OpenAI-compatible endpoint; unset means the local model."
    )
    model: str | None = Field(default=None, description="The model's name at the endpoint.")
    api_key: str = Field(default="none", repr=False, description="Key for the endpoint.")
    timeout: float = Field(default=300.0, gt=0, description="Seconds for one model call.")
    concurrency: int = Field(default=4, ge=1, description="Model calls in flight at once.")
    api: Literal["chat", "responses"] = Field(
        default="chat",
        description="The endpoint's API: chat (/v1/chat/completions) or responses "
        "(/v1/responses: tools with reasoning on the newest models); the local model: chat.",
    )


def chat_backend(config: RoleSettings) -> str:
    """The chat-model backend of a role: ``auto`` is ``openai`` with a base URL, else ``local``."""
    if config.backend == "auto":
        return "openai" if config.base_url else "local"
    return config.backend


class SimulatorSettings(RoleSettings):
    """The simulator, and how its model plays APIs (only the simulator's model)."""

    backend: str = Field(
        default="auto",
        description="Simulator for cache misses: auto (upstream -> LLM -> optional schema), "
        "openai, local, schema, upstream, or a plug-in name.",
    )
    model: str | None = Field(
        default=None,
        description="The model's name at the endpoint; default: asked from /v1/models.",
    )
    timeout: float = Field(default=120.0, gt=0, description="Seconds for one simulation.")
    attempts: int = Field(default=3, ge=1, le=10, description="Attempts on invalid output.")
    temperature: float = Field(default=0.0, ge=0, description="Sampling temperature.")
    seed: int | None = Field(default=42, description="Sampling seed.")
    max_tokens: int = Field(default=768, ge=16, description="Longest reply.")
    response_format: str = Field(
        default="json_schema", description="json_schema | json_object | none"
    )
    max_items: int = Field(
        default=10,
        ge=1,
        description="Longest list in a simulated reply (3 at most with the local model).",
    )
    examples: int = Field(default=5, ge=0, description="Cached replies shown as examples.")
    examples_chars: int = Field(default=2000, ge=0, description="Character budget of examples.")
    prompt_dir: Path | None = Field(
        default=None, description="Folder whose system.txt/user.txt replace the built-in prompt."
    )
    schema_fallback: bool = Field(
        default=False,
        description="Answer with the schema simulator when the LLM is unavailable.",
    )
    lenient_json: bool = Field(
        default=False,
        description="Read the first JSON object of the model's output, repaired, and an "
        "object without error/response as the response (fine-tuned simulators such as "
        "MirrorAPI); off: exactly one {error, response} object.",
    )


class AgentSettings(RoleSettings):
    """The agent's model."""


class JudgeSettings(RoleSettings):
    """The judge: a learned model, or an LLM through a chat-model backend."""

    backend: str = Field(
        default="auto",
        description="auto (openai with a base URL, else learned), learned, openai, local "
        "(the embedded model), or a registered judge or chat backend.",
    )
    base_url: str | None = Field(
        default=None,
        description="An OpenAI-compatible endpoint of an LLM judge; with backend auto, set "
        "means the openai judge and unset means the learned judge.",
    )
    learned_model: Path | None = Field(
        default=None,
        description="A folder written by `toolsim judge train` for the learned judge; "
        "default: the model shipped with toolsim.",
    )
    prompts: Path | None = Field(
        default=None,
        description="A folder of LLM-judge prompt files used exactly: toolsim's <name>.txt "
        "templates, or a StableToolBench evaluator folder (its template.txt); default: "
        "toolsim's own prompts.",
    )


class EpisodeSettings(BaseModel):
    """Episodes: per-rollout state for RL and evaluation harnesses (``TOOLSIM_EPISODES__*``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(
        default=True, description="Serve /v1/episodes and the OpenEnv front (/ws, /schema)."
    )
    ttl: float = Field(
        default=900.0,
        gt=0,
        description="Seconds an idle episode lives (every call or verify restarts it).",
    )
    max_open: int = Field(
        default=10_000,
        ge=1,
        description="Episodes open at once on the store, over every replica; more get 429.",
    )
    max_calls: int = Field(
        default=200, ge=1, description="Tool calls one episode may make; more are refused."
    )
    costs: str | None = Field(
        default=None,
        description="Prices per call, as `toolsim bench --costs` (a JSON file, seed:N or "
        "seed:N:LOW-HIGH); unset: 1 per call. An episode may bring its own.",
    )
    verify_batch: int = Field(
        default=256, ge=1, description="Verdicts asked of the judge in one batch at most."
    )
    verify_wait: float = Field(
        default=0.002,
        ge=0,
        description="Seconds a verify waits for others to share its judge batch.",
    )


class RealToolSettings(BaseModel):
    """The real tools behind OpenAPI and MCP catalogs (``--simulator upstream`` calls them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    openapi_server: str | None = Field(
        default=None,
        description="Base URL of the real server of every OpenAPI document; default: the "
        "document's first 'servers' URL.",
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        repr=False,
        description="HTTP headers sent with every real call (OpenAPI and MCP-over-HTTP), "
        'JSON: {"Authorization": "Bearer ..."}; never stored or logged.',
    )
    params: dict[str, str] = Field(
        default_factory=dict,
        repr=False,
        description="Query parameters added to every real OpenAPI call (API keys), JSON; "
        "never stored or logged.",
    )
    credentials: dict[str, SecretStr] = Field(
        default_factory=dict,
        repr=False,
        description="Credentials by the OpenAPI document's security scheme name, JSON: "
        '{"api_key": "...", "bearerAuth": "token", "basicAuth": "user:password"}; sent where '
        "the scheme says (header, query, cookie, Authorization); never stored or logged.",
    )


class FaultSettings(BaseModel):
    """Seeded faults and latency injected into tool replies (off by default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: Path | None = Field(
        default=None,
        description="A fault profile (YAML or JSON): error, rate-limit and timeout rates and "
        "latency, for every API or per tool/API. Unset: no faults.",
    )
    seed: int = Field(default=0, description="Seed of the fault draws (same seed, same faults).")
    session: str | None = Field(
        default=None,
        description="Set on every replica sharing a cache store: they number each call's "
        "occurrences on the store, so a call meets the same faults whichever answers. Unset: a "
        "server numbers them in memory (toolsim serve --workers N gives its workers one).",
    )


class ServerSettings(BaseModel):
    """The HTTP server: where it listens, its processes, limits, authentication and logs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=8080, ge=0, le=65535, description="Port to listen on.")
    workers: int = Field(
        default=1, ge=1, description="Server processes (uvicorn workers) sharing the cache."
    )
    flight_lock_seconds: float = Field(
        default=180.0,
        gt=0,
        description="Longest another worker waits for the shared per-call lock while one "
        "simulates a miss, then simulates anyway (a holder that dies frees it within 10 s).",
    )
    max_body_bytes: int = Field(default=ONE_MIB, ge=1024, description="Largest request body.")
    memory_entries: int = Field(
        default=10_000, ge=0, description="Hot replies kept in process memory (0: none)."
    )
    replay_suggestions: int = Field(
        default=3, ge=0, le=20, description="Closest recorded argument sets a replay miss names."
    )
    stats_flush_seconds: float = Field(
        default=5.0, gt=0, description="Seconds between adding call counts to the shared counters."
    )
    auth_token: str | None = Field(
        default=None,
        repr=False,
        description="Bearer token every endpoint but /healthz then requires (never logged).",
    )
    request_timeout: float | None = Field(
        default=None,
        gt=0,
        description="Seconds a request may take before it gets 504; must exceed the simulation "
        "budget (simulator.timeout, plus upstream.timeout with an upstream). Default: 300, or "
        "that budget plus 30 if longer.",
    )
    access_log: bool = Field(default=False, description="One JSON line per request.")
    otel: bool = Field(
        default=False, description="FastAPI's OpenTelemetry tracing, metrics and logs."
    )

    @field_validator("auth_token", mode="after")
    @classmethod
    def _no_blank_token(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            # Failing closed: a blank token must not silently mean "no authentication".
            raise ValueError("must not be blank; unset the token to turn auth off")
        return value


class CacheSettings(BaseModel):
    """The replay cache."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str | None = Field(
        default=None,
        description="Cache backend URL (redis://..., valkey://..., memory://); default: "
        "diskcache under home/cache.",
    )
    mode: CacheMode = Field(default=CacheMode.RECORD, description="record|replay|refresh|off")


class UpstreamSettings(BaseModel):
    """A real StableToolBench/ToolBench API relay, and the time limit of every real call."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str | None = Field(
        default=None, description="A real StableToolBench/ToolBench API relay tried first."
    )
    timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds one call to a real upstream (the relay, an OpenAPI or MCP server) "
        "may take.",
    )


class RetrySettings(BaseModel):
    """How a model request (simulator, agent, judge) is re-sent after a transient failure."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    retries: int = Field(
        default=6,
        ge=0,
        le=20,
        description="Re-sends of a model request after a 429, a 5xx, a connection error or a "
        "timeout; the same request each time.",
    )
    base: float = Field(
        default=1.0, ge=0, description="Seconds of the first wait; each later one doubles."
    )
    max: float = Field(
        default=60.0,
        ge=0,
        description="Longest single wait, and the most of a server's Retry-After honoured.",
    )


class LocalModelSettings(BaseModel):
    """The embedded model (SmolLM2 on an in-process llama.cpp server)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threads: int = Field(default=2, ge=1, description="CPU threads of the local model.")
    slots: int = Field(default=4, ge=1, description="Parallel sequences of the local model.")
    context: int = Field(
        default=16384, ge=512, description="Context of the local model, shared by its slots."
    )


class HardeningSettings(BaseModel):
    """Bounds and checks for a server exposed beyond one trusted client."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    memory_bytes: int = Field(
        default=256 * ONE_MIB,
        ge=0,
        description="Bytes of hot replies kept in process memory, at most (beside "
        "server.memory_entries); a larger reply is read from the store each time.",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Web origins whose pages may call /mcp (comma-separated, e.g. "
        "http://localhost:6274; 'http://localhost:*' for any port). A request with any other "
        "Origin header is refused (403); clients that send none (SDKs, agents) are served.",
    )

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str) and value.lstrip().startswith("["):
            value = json.loads(value)  # the JSON list form
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list):
            return [str(part).strip().rstrip("/") for part in value if str(part).strip()]
        return value


#: The roles with their own nested group of settings.
ROLES: dict[str, type[RoleSettings]] = {
    "simulator": SimulatorSettings,
    "agent": AgentSettings,
    "judge": JudgeSettings,
}

#: The version of toolsim that stops reading the names of :data:`LEGACY_NAMES`.
LEGACY_REMOVED_IN = "0.4.0"

_ROLE_FIELDS = ("base_url", "model", "api_key", "timeout", "concurrency")
_SIMULATOR_FIELDS = (
    *_ROLE_FIELDS,
    *("attempts", "temperature", "seed", "max_tokens", "response_format", "max_items"),
    "lenient_json",
)

#: The flat names of earlier versions, still accepted: old name -> (group, field).
#: ``llm_*`` always meant the simulator's model; ``simulator`` alone, its backend.
LEGACY_NAMES: dict[str, tuple[str, str]] = {
    "simulator": ("simulator", "backend"),
    **{f"llm_{name}": ("simulator", name) for name in _SIMULATOR_FIELDS},
    **{f"agent_{name}": ("agent", name) for name in ("backend", *_ROLE_FIELDS)},
    **{f"judge_{name}": ("judge", name) for name in ("backend", *_ROLE_FIELDS, "learned_model")},
    **{name: ("simulator", name) for name in ("examples", "examples_chars", "prompt_dir")},
    "schema_fallback": ("simulator", "schema_fallback"),
    "cache_url": ("cache", "url"),
    "cache_mode": ("cache", "mode"),
    "upstream_url": ("upstream", "url"),
    "upstream_timeout": ("upstream", "timeout"),
    "model_retries": ("retry", "retries"),
    "model_retry_base": ("retry", "base"),
    "model_retry_max": ("retry", "max"),
    **{f"local_{name}": ("local", name) for name in ("threads", "slots", "context")},
    **{name: ("server", name) for name in ServerSettings.model_fields},
}

_warned: set[str] = set()


def _warn_legacy(old: str, where: str) -> None:
    """Say once per process that a legacy name was used, and what replaces it."""
    if old in _warned:
        return
    _warned.add(old)
    group, field = LEGACY_NAMES[old]
    spelt, new = (
        (f"{PREFIX}{old.upper()}", role_variable(group, field))
        if where == "env"
        else (old, f"{group}.{field}")
    )
    warnings.warn(
        f"{spelt} is deprecated and will be removed in toolsim {LEGACY_REMOVED_IN}; use {new}",
        FutureWarning,
        stacklevel=2,
    )


def _nest_legacy(values: dict[str, Any], where: str = "argument") -> dict[str, Any]:
    """``values`` with flat legacy names moved into their group (nested names win), each
    legacy name used warned about once (``where``: ``env`` or ``argument``)."""
    values = dict(values)
    if isinstance(values.get("simulator"), str):
        _warn_legacy("simulator", where)
        values["simulator"] = {"backend": values["simulator"]}
    moved: dict[str, dict[str, Any]] = {}
    for old, (role, field) in LEGACY_NAMES.items():
        if old != role and old in values:
            _warn_legacy(old, where)
            moved.setdefault(role, {})[field] = values.pop(old)
    for role, fields in moved.items():
        given = values.get(role)
        if isinstance(given, BaseModel):
            given = given.model_dump(exclude_unset=True)
        values[role] = {**fields, **(given or {})}
    return values


class _EnvSource(EnvSettingsSource):
    """Environment variables, with the legacy flat names folded into the nested groups."""

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        # TOOLSIM_SIMULATOR=schema is the old spelling of TOOLSIM_SIMULATOR__BACKEND=schema.
        if field_name in ROLES and isinstance(value, str) and not value.lstrip().startswith("{"):
            _warn_legacy("simulator", "env")
            return {"backend": value}
        return super().decode_complex_value(field_name, field, value)

    def __call__(self) -> dict[str, Any]:
        data = super().__call__()
        flat: dict[str, Any] = {}
        for old in LEGACY_NAMES:
            name = f"{self.env_prefix}{old}"
            value = self.env_vars.get(name if self.case_sensitive else name.lower())
            if value is not None and old not in ROLES:
                flat[old] = value
        return _nest_legacy({**flat, **data}, "env") if flat else data


def role_variable(role: str, field: str) -> str:
    """The environment variable of one group's setting, e.g. ``TOOLSIM_AGENT__BASE_URL``."""
    return variable(f"{role}.{field}")


def variable(path: str) -> str:
    """The environment variable of a setting's path: ``cache.url`` -> ``TOOLSIM_CACHE__URL``."""
    return PREFIX + path.upper().replace(".", NESTED)


def environment_variables() -> dict[str, str]:
    """Every variable the settings read, current spelling -> description."""
    names: dict[str, str] = {}
    for name, field in Settings.model_fields.items():
        group = field.annotation
        if not (isinstance(group, type) and issubclass(group, BaseModel)):
            names[f"{PREFIX}{name.upper()}"] = field.description or ""
            continue
        for sub, info in group.model_fields.items():
            names[role_variable(name, sub)] = info.description or ""
    return names


def legacy_environment_variables() -> dict[str, str]:
    """Every legacy flat variable -> the current one it stands for."""
    return {
        f"{PREFIX}{old.upper()}": role_variable(role, field)
        for old, (role, field) in LEGACY_NAMES.items()
    }


class Settings(BaseSettings):
    """Everything a toolsim server or command can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_nested_delimiter=NESTED, extra="ignore"
    )

    def __init__(self, **values: Any) -> None:
        """Settings from the environment, overridden by ``values`` (legacy flat names too)."""
        super().__init__(**_nest_legacy(values))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments, then the environment (legacy names folded in), then files."""
        return init_settings, _EnvSource(settings_cls), dotenv_settings, file_secret_settings

    home: Path = Field(
        default=Path("~/.cache/toolsim"), description="Where caches and models are kept."
    )
    tools: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["example"],
        description="Tool folders / query files to load (comma-separated in the env var); "
        "'example' is the bundled suite.",
    )
    world: bool = Field(
        default=True,
        description="Keep an entity graph of stored replies and reconcile simulated replies "
        "with it, so the world does not contradict itself.",
    )
    simulator: SimulatorSettings = Field(
        default_factory=SimulatorSettings,
        description="The simulator, and the model it plays APIs with (TOOLSIM_SIMULATOR__*).",
    )
    agent: AgentSettings = Field(
        default_factory=AgentSettings, description="The agent's model (TOOLSIM_AGENT__*)."
    )
    judge: JudgeSettings = Field(
        default_factory=JudgeSettings, description="The judge (TOOLSIM_JUDGE__*)."
    )
    episodes: EpisodeSettings = Field(
        default_factory=EpisodeSettings,
        description="Episodes for RL and evaluation harnesses (TOOLSIM_EPISODES__*).",
    )
    server: ServerSettings = Field(
        default_factory=ServerSettings, description="The HTTP server (TOOLSIM_SERVER__*)."
    )
    hardening: HardeningSettings = Field(
        default_factory=HardeningSettings,
        description="Bounds and checks for an exposed server (TOOLSIM_HARDENING__*).",
    )
    cache: CacheSettings = Field(
        default_factory=CacheSettings, description="The replay cache (TOOLSIM_CACHE__*)."
    )
    upstream: UpstreamSettings = Field(
        default_factory=UpstreamSettings,
        description="The StableToolBench relay and real calls' time limit (TOOLSIM_UPSTREAM__*).",
    )
    real_tools: RealToolSettings = Field(
        default_factory=RealToolSettings,
        description="The real tools behind OpenAPI/MCP catalogs (TOOLSIM_REAL_TOOLS__*).",
    )
    faults: FaultSettings = Field(
        default_factory=FaultSettings,
        description="Seeded fault and latency profiles (TOOLSIM_FAULTS__*).",
    )
    retry: RetrySettings = Field(
        default_factory=RetrySettings,
        description="Re-sending model requests after transient failures (TOOLSIM_RETRY__*).",
    )
    local: LocalModelSettings = Field(
        default_factory=LocalModelSettings, description="The embedded model (TOOLSIM_LOCAL__*)."
    )

    @field_validator("tools", mode="before")
    @classmethod
    def _split_tools(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _request_timeout_above_simulation_budget(self) -> Settings:
        budget = self.simulation_budget()
        given = self.server.request_timeout
        if given is None:
            server = self.server.model_copy(update={"request_timeout": max(300.0, budget + 30.0)})
            object.__setattr__(self, "server", server)
        elif given <= budget:
            raise ValueError(
                f"server.request_timeout must exceed the simulation budget of {budget:g} s "
                "(simulator.timeout, plus upstream.timeout with an upstream), or slow "
                "simulations would always get 504"
            )
        return self

    def request_time_limit(self) -> float:
        """Seconds a server request may take (``server.request_timeout``, its default worked
        out from the simulation budget)."""
        assert self.server.request_timeout is not None  # filled in by the validator
        return self.server.request_timeout

    def simulation_budget(self) -> float:
        """Seconds one simulation may take: the LLM's limit, plus the upstream's when one is
        set (or when only real tools answer)."""
        budget = self.simulator.timeout
        if self.upstream.url or self.simulator.backend == "upstream":
            budget += self.upstream.timeout
        return budget

    @field_validator("home", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

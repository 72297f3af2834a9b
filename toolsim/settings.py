"""Settings: environment variables ``TOOLSIM_*``, overridden by command-line flags.

Each role that talks to a model has one nested group of settings of the same shape
(backend, base URL, model, API key, timeout, concurrency, ...):

* ``simulator``: the simulator, and the model it plays APIs with
  (``TOOLSIM_SIMULATOR__BASE_URL``, ...);
* ``agent``: the agent's model (``TOOLSIM_AGENT__MODEL``, ...);
* ``judge``: the judge (``TOOLSIM_JUDGE__BACKEND``, ...).

The flat names used before (``TOOLSIM_SIMULATOR``, ``TOOLSIM_LLM_BASE_URL``,
``TOOLSIM_AGENT_MODEL``, ``TOOLSIM_JUDGE_BACKEND``, ...) are still accepted, as
environment variables and as keyword arguments (:data:`LEGACY_NAMES`); where both
spellings are set, the nested one wins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
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
    learned_model: Path | None = Field(
        default=None,
        description="A folder written by `toolsim judge train` for the learned judge; "
        "default: the model shipped with toolsim.",
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


class FaultSettings(BaseModel):
    """Seeded faults and latency injected into tool replies (off by default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: Path | None = Field(
        default=None,
        description="A fault profile (YAML or JSON): error, rate-limit and timeout rates and "
        "latency, for every API or per tool/API. Unset: no faults.",
    )
    seed: int = Field(default=0, description="Seed of the fault draws (same seed, same faults).")


#: The roles with their own nested group of settings.
ROLES: dict[str, type[RoleSettings]] = {
    "simulator": SimulatorSettings,
    "agent": AgentSettings,
    "judge": JudgeSettings,
}

#: The flat names of earlier versions, still accepted: old name -> (role, field).
#: ``llm_*`` always meant the simulator's model; ``simulator`` alone, its backend.
LEGACY_NAMES: dict[str, tuple[str, str]] = {
    "simulator": ("simulator", "backend"),
    **{f"llm_{name}": ("simulator", name) for name in SimulatorSettings.model_fields},
    **{f"agent_{name}": ("agent", name) for name in AgentSettings.model_fields},
    **{f"judge_{name}": ("judge", name) for name in JudgeSettings.model_fields},
}
del LEGACY_NAMES["llm_backend"]  # never existed: the simulator's backend was TOOLSIM_SIMULATOR


def _nest_legacy(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with flat legacy names moved into their role's group (nested names win)."""
    values = dict(values)
    if isinstance(values.get("simulator"), str):
        values["simulator"] = {"backend": values["simulator"]}
    moved: dict[str, dict[str, Any]] = {}
    for old, (role, field) in LEGACY_NAMES.items():
        if old != role and old in values:
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
        return _nest_legacy({**flat, **data}) if flat else data


def role_variable(role: str, field: str) -> str:
    """The environment variable of one role's setting, e.g. ``TOOLSIM_AGENT__BASE_URL``."""
    return f"{PREFIX}{role.upper()}{NESTED}{field.upper()}"


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
    cache_url: str | None = Field(
        default=None, description="Cache backend URL; default diskcache under home/cache."
    )
    cache_mode: CacheMode = Field(default=CacheMode.RECORD, description="record|replay|refresh|off")
    upstream_url: str | None = Field(
        default=None, description="A real StableToolBench/ToolBench API relay tried first."
    )
    upstream_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds one call to a real upstream (the relay, an OpenAPI or MCP server) "
        "may take.",
    )
    schema_fallback: bool = Field(
        default=False,
        description="Answer with the schema simulator when the LLM is unavailable.",
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
    real_tools: RealToolSettings = Field(
        default_factory=RealToolSettings,
        description="The real tools behind OpenAPI/MCP catalogs (TOOLSIM_REAL_TOOLS__*).",
    )
    faults: FaultSettings = Field(
        default_factory=FaultSettings,
        description="Seeded fault and latency profiles (TOOLSIM_FAULTS__*).",
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
    local_threads: int = Field(default=2, ge=1, description="CPU threads of the local model.")
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
    request_timeout: float = Field(
        default=None,  # filled in by _default_request_timeout
        gt=0,
        validate_default=True,
        description="Seconds a request may take before it gets 504; must exceed the simulation "
        "budget (simulator.timeout, plus upstream_timeout with an upstream). Default: 300, or "
        "that budget plus 30 if longer.",
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
                f"must exceed the simulation budget of {budget:g} s (simulator.timeout, plus "
                "upstream_timeout with an upstream), or slow simulations would always get 504"
            )
        return value

    @field_validator("home", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()


def _simulation_budget(info: ValidationInfo) -> float:
    """Seconds one simulation may take: the LLM's limit, plus the upstream's when one is set."""
    simulator = info.data.get("simulator")
    budget = simulator.timeout if isinstance(simulator, SimulatorSettings) else 0.0
    real_only = isinstance(simulator, SimulatorSettings) and simulator.backend == "upstream"
    if info.data.get("upstream_url") or real_only:
        budget += float(info.data.get("upstream_timeout", 0.0))
    return budget

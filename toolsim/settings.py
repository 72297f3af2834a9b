"""Settings: environment variables ``TOOLSIM_*``, overridden by command-line flags."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
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
    simulator: str = Field(default="schema", description="Simulator used on cache misses.")
    host: str = "127.0.0.1"
    port: int = 8080
    max_body_bytes: int = Field(default=ONE_MIB, ge=1024, description="Largest request body.")
    memory_entries: int = Field(
        default=10_000, ge=0, description="Hot replies kept in process memory (0: none)."
    )
    replay_suggestions: int = Field(default=3, ge=0, le=20)
    stats_flush_seconds: float = Field(default=5.0, gt=0)

    @field_validator("tools", mode="before")
    @classmethod
    def _split_tools(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("home", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

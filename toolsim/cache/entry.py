"""What the cache stores: a reply plus where it came from."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: Bumped whenever the stored layout changes, so old entries can be migrated.
FORMAT_VERSION = 1


class Source(StrEnum):
    """Who produced a stored reply."""

    SIMULATED = "simulated"
    IMPORTED = "imported"
    REAL = "real"
    RECORDED = "recorded"


class Reply(BaseModel):
    """The StableToolBench reply shape: an error message (empty on success) and a response."""

    model_config = ConfigDict(extra="forbid")

    error: str = ""
    response: Any = ""


class CacheEntry(BaseModel):
    """A stored reply with its provenance."""

    model_config = ConfigDict(extra="ignore")

    category: str
    tool: str
    api: str
    arguments: dict[str, Any]
    reply: Reply
    source: Source
    simulator: str = ""
    model: str = ""
    prompt_hash: str = ""
    examples: list[str] = Field(default_factory=list)
    # Facts the world's reconciliation changed in a simulated reply (path, entity, was, now).
    reconciled: list[dict[str, Any]] = Field(default_factory=list)
    # The reference cache's original key, so export reproduces it exactly.
    origin_key: str = ""
    created_at: float = Field(default_factory=time.time)
    format_version: int = FORMAT_VERSION

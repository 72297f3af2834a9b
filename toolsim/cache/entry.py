"""What the cache stores: a reply plus where it came from."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from toolsim.catalog.models import ApiSpec

#: Bumped whenever the stored layout changes, so old entries can be migrated.
FORMAT_VERSION = 1


class Source(StrEnum):
    """Who produced a stored reply.

    * ``simulated``: a simulator made it up (a model, or the schema filler);
    * ``adapted``: the exemplar simulator adapted a recorded reply to the call;
    * ``imported``: a reference response cache (``toolsim cache import``);
    * ``real``: a real API relay answered (``--upstream``);
    * ``recorded``: a reply recorded in an answer file or trajectory.

    Every source but the first two is a *recorded* one (:attr:`recorded`): what a
    real API, or the reference world, actually answered. Only recorded replies
    are exemplars for the exemplar simulator, so a new source of recorded replies
    needs no change there.
    """

    SIMULATED = "simulated"
    ADAPTED = "adapted"
    IMPORTED = "imported"
    REAL = "real"
    RECORDED = "recorded"

    @property
    def recorded(self) -> bool:
        """Whether a reply of this source was recorded rather than made up by toolsim."""
        return self not in _MADE_UP

    @property
    def reconcilable(self) -> bool:
        """Whether the world may change a reply of this source to agree with known facts."""
        return self in _MADE_UP


#: Sources of replies toolsim made up: never exemplars, always reconciled with the world.
_MADE_UP = frozenset({Source.SIMULATED, Source.ADAPTED})


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

    @classmethod
    def of(
        cls,
        api: ApiSpec,
        arguments: dict[str, Any],
        reply: Reply,
        source: Source,
        **provenance: Any,
    ) -> CacheEntry:
        """The entry of one call of ``api`` (its canonical ``arguments``) and its reply."""
        return cls(
            category=api.category_folder,
            tool=api.tool_key,
            api=api.api_key,
            arguments=arguments,
            reply=reply,
            source=source,
            **provenance,
        )

"""The bodies of the episode endpoints (pydantic at the boundary)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: Episode ids a client may choose: short, and safe in any store key.
EPISODE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class OpenEpisode(BaseModel):
    """``POST /v1/episodes``: the task, and how the episode is run.

    The task is a loaded query (``group`` and ``query_id``), or a free ``query`` with
    the ``tools`` (tool names) or ``functions`` (function names) it may call; with
    neither, ``seed`` picks one of the loaded queries.
    """

    model_config = ConfigDict(extra="forbid")

    group: str | None = Field(default=None, description="Query group (query file stem).")
    query_id: str | None = Field(default=None, description="Query id within the group.")
    query: str | None = Field(default=None, max_length=20_000, description="A free task.")
    tools: list[str] | None = Field(default=None, description="Tool names a free task may use.")
    functions: list[str] | None = Field(
        default=None, description="Function names a free task may call."
    )
    seed: int | None = Field(
        default=None, ge=0, description="Recorded; with no task given, picks a loaded query."
    )
    budget: int | None = Field(default=None, ge=1, description="Cost the episode may spend.")
    costs: str | dict[str, int] | None = Field(
        default=None,
        description="Prices per call: seed:N[:LOW-HIGH] or {function: price}; default: the "
        "server's (TOOLSIM_EPISODES__COSTS), else 1 per call.",
    )
    planner: str | None = Field(
        default=None, description="A planner (e.g. btp) whose plan for the budget is returned."
    )
    param_names: Literal["documented", "stb"] = Field(
        default="documented",
        description="Parameter names in the tool schemas: documented, or 'stb' (as "
        "StableToolBench's client showed them).",
    )
    episode_id: str | None = Field(
        default=None, pattern=EPISODE_ID_PATTERN, description="Choose the id (else random)."
    )


class VerifyEpisode(BaseModel):
    """``POST /v1/episodes/{id}/verify``: the agent's final answer."""

    model_config = ConfigDict(extra="forbid")

    answer: str = Field(default="", max_length=100_000, description="The final answer.")
    give_up: bool = Field(
        default=False, description="The agent gave up instead of answering (reward 0)."
    )

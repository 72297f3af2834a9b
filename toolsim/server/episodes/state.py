"""An episode as it lives in its session: the fields written at opening, counters, the overlay.

Session fields (see :class:`~toolsim.cache.backend.SupportsSessions`):

* written once at opening: ``query``, ``group``, ``query_id``, ``apis`` (the
  ``[category, tool, api]`` it may call), ``functions`` (their names, in order),
  ``prices`` (function -> price), ``seed``, ``budget``, ``max_calls``, ``plan``,
  ``param_names`` (how its tool schemas name parameters), ``opened`` (a Unix time);
* counters: ``calls`` and ``cost``, added to by each call under their caps;
* ``active``: when it was last used; ``verdict``, ``answer``: set by a verify;
* ``o:<record>``: its overlay (:mod:`~toolsim.server.episodes.overlay`);
* ``r:<cache key>``: a reply simulated for this episode alone, so a call repeated
  within it is answered alike.

Its log holds one record per tool call, in order (:func:`call_record`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from toolsim.cache.entry import Reply, Source
from toolsim.catalog.models import ApiId
from toolsim.server.episodes.overlay import Overlay

#: The session space episodes live in.
SPACE = "episode"
#: Session fields of replies simulated for one episode: ``r:<cache key>``.
REPLY = "r:"


@dataclass(frozen=True)
class EpisodeState:
    """An episode read from its session."""

    episode_id: str
    query: str
    group: str
    query_id: str
    apis: tuple[ApiId, ...]
    functions: tuple[str, ...]
    prices: dict[str, int]
    seed: int | None
    budget: int | None
    max_calls: int
    plan: dict[str, Any] | None
    opened: float
    active: float
    calls: int
    cost: float
    verdict: dict[str, Any] | None
    answer: dict[str, Any] | None
    overlay: Overlay
    replies: dict[str, dict[str, Any]]
    param_names: str = "documented"

    @classmethod
    def of(cls, episode_id: str, fields: dict[str, Any]) -> EpisodeState:
        """The episode a session's fields describe."""
        return cls(
            episode_id=episode_id,
            query=fields["query"],
            group=fields["group"],
            query_id=fields["query_id"],
            apis=tuple((a[0], a[1], a[2]) for a in fields["apis"]),
            functions=tuple(fields["functions"]),
            prices=dict(fields["prices"]),
            seed=fields.get("seed"),
            budget=fields.get("budget"),
            max_calls=int(fields["max_calls"]),
            plan=fields.get("plan"),
            opened=float(fields["opened"]),
            active=float(fields.get("active", fields["opened"])),
            calls=int(fields.get("calls", 0)),
            cost=float(fields.get("cost", 0)),
            verdict=fields.get("verdict"),
            answer=fields.get("answer"),
            overlay=Overlay.of(fields),
            replies={
                name[len(REPLY) :]: value
                for name, value in fields.items()
                if name.startswith(REPLY)
            },
            param_names=fields.get("param_names", "documented"),
        )

    def price(self, function: str) -> int:
        """What one call of ``function`` costs in this episode."""
        return self.prices.get(function, 1)

    def budget_view(self) -> dict[str, Any]:
        """Calls, cost and what is left, for clients."""
        return {
            "limit": self.budget,
            "spent": _number(self.cost),
            "left": None if self.budget is None else _number(self.budget - self.cost),
            "calls": self.calls,
            "max_calls": self.max_calls,
        }

    def expires_in(self, ttl: float) -> float:
        """Seconds until the episode expires unless used again."""
        return round(max(0.0, self.active + ttl - time.time()), 3)


def call_record(
    function: str,
    arguments: dict[str, Any],
    reply: Reply,
    source: Source | str,
    *,
    cached: bool,
    cost: int,
) -> dict[str, Any]:
    """One tool call as the episode's log keeps it."""
    return {
        "function": function,
        "arguments": arguments,
        "error": reply.error,
        "response": reply.response,
        "source": str(source),
        "cached": cached,
        "cost": cost,
        "at": round(time.time(), 3),
    }


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 6)

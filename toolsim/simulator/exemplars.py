"""Exemplars: the recorded replies of an API, nearest to a call first.

An exemplar is a stored entry of the API whose source is a recorded one
(:attr:`~toolsim.cache.entry.Source.recorded`: imported reference caches, replies
read from answer files, real upstream replies, and any recorded source added later)
and that is a usable answer: no error, no rate-limit or authorisation message, not
empty. Simulated and adapted replies are never exemplars: adapting a made-up reply
would compound its errors.

:class:`ExemplarStore` reads them from one or more cache backends (the server's own
store, and for the example suite its bundled replies) and keeps each API's in an
in-process index, re-read from a backend at most every ``refresh_seconds`` (so a
miss costs one listing of the API's keys at most, and only new keys are read).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from toolsim.cache.backend import CacheBackend
from toolsim.cache.entry import CacheEntry
from toolsim.cache.failures import is_real_answer
from toolsim.catalog.catalog import Catalog
from toolsim.catalog.loaders import EXAMPLE_SUITE, example_suite_dir
from toolsim.catalog.models import ApiId

#: Most recorded entries of one API kept as exemplars (the newest).
MAX_EXEMPLARS = 2000
_TOKEN = re.compile(r"[a-z0-9]+")

Exemplar = tuple[str, CacheEntry]


def usable(entry: CacheEntry) -> bool:
    """Whether a stored entry can be an exemplar (see the module docstring)."""
    reply = entry.reply
    if not entry.source.recorded or reply.error or not is_real_answer(200, reply):
        return False
    response = reply.response
    return response not in (None, "", [], {}) and not (
        isinstance(response, str) and response.strip() in ("", "{}", "[]")
    )


def _tokens(value: Any) -> frozenset[str]:
    return frozenset(_TOKEN.findall(str(value).lower()))


@dataclass(frozen=True, slots=True)
class _Indexed:
    """One exemplar with what ranking compares, computed once."""

    key: str
    entry: CacheEntry
    values: dict[str, Any]
    tokens: dict[str, frozenset[str]]


def _indexed(key: str, entry: CacheEntry) -> _Indexed:
    arguments = entry.arguments
    return _Indexed(key, entry, arguments, {name: _tokens(v) for name, v in arguments.items()})


def closeness(
    arguments: dict[str, Any], tokens: dict[str, frozenset[str]], other: _Indexed
) -> tuple:
    """How far an exemplar's call is from this one, smaller is closer.

    First the parameters only one of the two calls has (an exemplar of the same shape
    of call can be adapted completely), then how many shared parameters differ, then
    (negated) the word overlap of the differing values, then the key for a stable order.
    """
    names = arguments.keys()
    missing = len(names ^ other.values.keys())
    differing = 0
    overlap = 0.0
    for name in names & other.values.keys():
        if arguments[name] != other.values[name]:
            differing += 1
            a, b = tokens[name], other.tokens[name]
            if a or b:
                overlap += len(a & b) / len(a | b)
    return (missing, differing, -overlap, other.key)


class _ApiIndex:
    """The exemplars of one API known so far, and which keys were read."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.exemplars: list[_Indexed] = []
        self.checked_at = float("-inf")


class ExemplarStore:
    """Recorded replies of each API from one or more backends, nearest to a call first."""

    def __init__(self, backends: Sequence[CacheBackend], *, refresh_seconds: float = 2.0) -> None:
        self.backends = tuple(backends)
        self.refresh_seconds = refresh_seconds
        self._index: dict[ApiId, _ApiIndex] = {}
        self._lock = threading.Lock()

    def _refreshed(self, api: ApiId) -> list[_Indexed]:
        with self._lock:
            index = self._index.setdefault(api, _ApiIndex())
            now = time.monotonic()
            if now - index.checked_at >= self.refresh_seconds:
                index.checked_at = now
                for backend in self.backends:
                    for key in backend.keys_for(api, MAX_EXEMPLARS):
                        if key in index.seen:
                            continue
                        index.seen.add(key)
                        entry = backend.get(key)
                        if entry is not None and usable(entry):
                            index.exemplars.append(_indexed(key, entry))
            return index.exemplars

    def recorded(self, api: ApiId) -> list[Exemplar]:
        """Every exemplar of an API, in the order they were stored."""
        return [(item.key, item.entry) for item in self._refreshed(api)]

    def nearest(
        self, api: ApiId, arguments: dict[str, Any], *, limit: int = 5, exclude: str = ""
    ) -> tuple[Exemplar, ...]:
        """Up to ``limit`` exemplars of ``api`` closest to ``arguments``, never ``exclude``."""
        if limit <= 0:
            return ()
        tokens = {name: _tokens(value) for name, value in arguments.items()}
        ranked = sorted(
            (item for item in self._refreshed(api) if item.key != exclude),
            key=lambda item: closeness(arguments, tokens, item),
        )
        return tuple((item.key, item.entry) for item in ranked[:limit])


def bundled_exemplars(catalog: Catalog) -> list[CacheBackend]:
    """The recorded replies shipped with the bundled example suite, if ``catalog`` holds it.

    They are in StableToolBench's cache layout (``examples/tool_response_cache``),
    imported into memory: they serve as exemplars only, never as the server's entries.
    """
    from toolsim.cache.memory import MemoryBackend
    from toolsim.cache.reference_format import import_reference

    if EXAMPLE_SUITE not in catalog.groups:
        return []
    backend = MemoryBackend()
    import_reference(backend, example_suite_dir() / "tool_response_cache", catalog)
    return [backend]

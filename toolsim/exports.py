"""Package faces whose names are imported on first use (PEP 562).

A package that re-exports from heavy modules (the model client, the judge) sets
``__getattr__ = lazy_exports(__name__, {name: module})``, so importing one light
submodule, as the CLI does for its option types, does not load them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``exports[name]`` and returns its ``name``."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(module), name)

    return __getattr__

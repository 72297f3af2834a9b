"""Package faces that import on first use: every name they promise resolves."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize(
    "package", ["toolsim.agent", "toolsim.cli", "toolsim.evaluator", "toolsim.pipeline"]
)
def test_every_exported_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []
    with pytest.raises(AttributeError, match=f"module '{package}' has no attribute 'nope'"):
        module.nope  # noqa: B018

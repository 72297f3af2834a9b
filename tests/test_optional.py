"""Optional packages: only a missing third-party module is "not installed"; toolsim's own
import errors always surface."""

from __future__ import annotations

import sys

import pytest

from toolsim.errors import UserError
from toolsim.optional import missing_third_party


@pytest.mark.parametrize(
    ("error", "missing"),
    [
        (ModuleNotFoundError("No module named 'redis'", name="redis"), True),
        (ModuleNotFoundError("No module named 'torch'", name="torch"), True),
        (ModuleNotFoundError("No module named 'toolsim.x'", name="toolsim.x"), False),
        (ModuleNotFoundError("No module named 'toolsim'", name="toolsim"), False),
        (ModuleNotFoundError("a module with no name"), False),
        (ImportError("cannot import name 'Redis' from 'redis'", name="redis"), False),
    ],
)
def test_only_an_absent_third_party_module_counts_as_missing(error, missing):
    assert missing_third_party(error) is missing


def test_a_missing_optional_package_is_an_error_saying_what_to_install(monkeypatch):
    from toolsim.cache.redis import open_redis

    monkeypatch.setitem(sys.modules, "redis", None)  # as if not installed
    with pytest.raises(UserError, match=r"pip install 'toolsim\[redis\]'"):
        open_redis("redis://127.0.0.1:1/0")


def test_an_optional_package_broken_by_toolsim_surfaces(monkeypatch, tmp_path):
    # An optional package whose import fails on a toolsim module: a bug, not "not installed".
    (tmp_path / "redis.py").write_text("import toolsim.no_such_module\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "redis", raising=False)
    from toolsim.cache.redis import open_redis

    with pytest.raises(ModuleNotFoundError, match="toolsim.no_such_module"):
        open_redis("redis://127.0.0.1:1/0")

"""Evaluator fixtures: the scripted judge (see judge_script.py) and settings that select it."""

from __future__ import annotations

from pathlib import Path

import pytest
from judge_script import BACKEND, SCRIPT, Script

from toolsim.settings import Settings


@pytest.fixture
def script() -> Script:
    """The scripted judge's script, reset (every test starts from "Solved" / "tie")."""
    SCRIPT.reset()
    return SCRIPT


@pytest.fixture
def judge_settings(tmp_path: Path, script: Script) -> Settings:
    """Settings whose judge is the scripted one, with its cache under a fresh home."""
    return Settings(home=tmp_path / "home", judge={"backend": BACKEND})

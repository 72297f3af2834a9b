"""Episode fixtures: apps serving the example suite and the notes tool, with a fake judge."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from episode_fixtures import NOTES_TOOL, FakeRewards
from fastapi import FastAPI

from toolsim.server import create_app
from toolsim.settings import Settings


@pytest.fixture
def notes_tools(tmp_path: Path) -> Path:
    """A tools folder holding the notes tool."""
    folder = tmp_path / "tools" / "Productivity"
    folder.mkdir(parents=True)
    (folder / "notes_hub.json").write_text(json.dumps(NOTES_TOOL))
    return tmp_path / "tools"


@pytest.fixture
def make_episodes_app(tmp_path: Path, notes_tools: Path) -> Iterator[Callable[..., FastAPI]]:
    """Apps serving the example suite and the notes tool, with a fake judge by default."""
    apps: list[FastAPI] = []

    def make(judge: Any = "fake", **settings: Any) -> FastAPI:
        simulator = {"backend": settings.pop("simulator", "notes")}
        options = {
            "home": tmp_path / "home",
            "tools": ["example", str(notes_tools)],
            "simulator": simulator,
        } | settings
        app = create_app(Settings(**options), judge=FakeRewards() if judge == "fake" else judge)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.state.service.backend.close()

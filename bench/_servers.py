"""Starting, probing and stopping uvicorn server processes on loopback ports."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

BENCH_DIR = Path(__file__).resolve().parent
HOST = "127.0.0.1"


def free_port() -> int:
    """A loopback port nothing listens on (the OS picks it when binding port 0)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """A running uvicorn process serving one app of ``_apps.py``."""

    label: str
    url: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        """Terminate the process (kill it if it does not exit within 10 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def log_lines(self) -> list[str]:
        """Non-empty lines of the server's log: at ``--log-level warning``, all worth reading."""
        return [line for line in self.log.read_text().splitlines() if line.strip()]


def start(label: str, app: str, logs: Path, env: dict[str, str] | None = None) -> Server:
    """Start ``uvicorn _apps:<app>`` (one worker) on a free loopback port; do not wait."""
    # Inherited TOOLSIM_* variables would change what is measured.
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TOOLSIM_")}
    port = free_port()
    log = logs / (re.sub(r"\W+", "_", label).strip("_") + ".log")
    with log.open("w") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                f"_apps:{app}",
                "--app-dir",
                str(BENCH_DIR),
                "--host",
                HOST,
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=clean | (env or {}),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    return Server(label, f"http://{HOST}:{port}", process, log)


def wait_ready(server: Server, probe: Callable[[httpx.Client], httpx.Response], timeout: float):
    """Poll ``probe`` until it answers 200; raise if the deadline passes or the process dies."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    with httpx.Client(base_url=server.url, timeout=2) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"{server.label} exited:\n{server.log.read_text()}")
            try:
                reply = probe(client)
            except httpx.TransportError as exc:
                last = repr(exc)
            else:
                if reply.status_code == 200:
                    return
                last = f"HTTP {reply.status_code}: {reply.text[:300]}"
            time.sleep(0.1)
    raise RuntimeError(
        f"{server.label} not ready after {timeout:.0f} s ({last}):\n{server.log.read_text()}"
    )

"""Starting, probing and stopping uvicorn server processes on loopback ports."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

PERF_DIR = Path(__file__).resolve().parent
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
    #: The process leads its own process group (its children, e.g. uvicorn workers, are in it).
    group: bool = False

    def stop(self) -> None:
        """Terminate the process (kill it, and its group, if it does not exit within 10 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.group:
            # Children left behind by a killed parent (its group id is its pid).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server has used so far, its worker processes included.

        Unlike throughput, this barely changes when other programs load the machine.
        """
        return sum(_cpu_seconds(pid) for pid in (self.process.pid, *_children(self.process.pid)))

    def log_lines(self) -> list[str]:
        """Non-empty lines of the server's log: at ``--log-level warning``, all worth reading."""
        return [line for line in self.log.read_text().splitlines() if line.strip()]


def start(label: str, app: str, logs: Path, env: dict[str, str] | None = None) -> Server:
    """Start ``uvicorn _apps:<app>`` (one worker) on a free loopback port; do not wait."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        f"_apps:{app}",
        "--app-dir",
        str(PERF_DIR),
        "--host",
        HOST,
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return start_command(label, command, port, logs, env)


def start_command(
    label: str,
    command: list[str],
    port: int,
    logs: Path,
    env: dict[str, str] | None = None,
    *,
    group: bool = False,
) -> Server:
    """Start ``command`` (which listens on ``port``) with its output in a log; do not wait.

    ``group``: run it in a new process group, so that :meth:`Server.stop` can
    also kill the children it started (several uvicorn workers).
    """
    # Inherited TOOLSIM_* variables would change what is measured.
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TOOLSIM_")}
    log = logs / (re.sub(r"\W+", "_", label).strip("_") + ".log")
    with log.open("w") as sink:
        process = subprocess.Popen(
            command,
            env=clean | (env or {}),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=group,
        )
    return Server(label, f"http://{HOST}:{port}", process, log, group)


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


def all_hits(*, requests: int, hits: int, misses: int, errors: int, concurrency: int) -> bool:
    """Whether a server counted every request as a hit: no misses or errors, and hits equal
    the requests the load generator counted, plus at most the ones in flight when it stopped."""
    in_flight = hits - requests
    return misses == 0 and errors == 0 and 0 <= in_flight <= concurrency


def _stat(pid: int | str) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first)."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rpartition(")")[2].split()


def _children(pid: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if int(_stat(entry)[1]) == pid:
                    children.append(int(entry))
    return children


def _cpu_seconds(pid: int) -> float:
    try:
        fields = _stat(pid)
    except OSError:
        return 0.0  # exited
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

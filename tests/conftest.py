"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import free_port

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No TOOLSIM_* settings from the caller's shell: Settings read them, and a developer's own
    must not leak into a test. The ``TOOLSIM_REQUIRE_*`` switches of ``.ci/run`` stay."""
    for name in list(os.environ):
        if name.startswith("TOOLSIM_") and not name.startswith("TOOLSIM_REQUIRE_"):
            monkeypatch.delenv(name)


@pytest.fixture
def shared_data() -> Path:
    """The reference data beside the project; skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not found at {SHARED_DATA} (a fresh clone has no ../shared)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``redis-server`` on a free loopback port for the session; yields its URL.

    Skips when the binary is missing, unless ``TOOLSIM_REQUIRE_REDIS=1`` (set by
    CI) makes that a failure. Nothing is persisted.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server not found (apt-get install redis-server)"
        if os.environ.get("TOOLSIM_REQUIRE_REDIS") == "1":
            pytest.fail(f"{message}; TOOLSIM_REQUIRE_REDIS=1 requires it")
        pytest.skip(message)
    import redis

    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
    command += ["no", "--dir", str(folder), "--logfile", str(folder / "redis.log")]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                pytest.fail(f"redis-server exited: {server.stderr.read().decode()}")
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("redis-server did not answer PING within 30 s")
            time.sleep(0.05)  # polling interval while a real process starts, not a sync
        yield url
    finally:
        client.close()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stderr.close()


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """A URL on the session's Redis with a key prefix of this test's own."""
    return f"{redis_server}?prefix=test-{uuid.uuid4().hex}"

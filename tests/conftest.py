"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import free_port

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
#: The caller's TOOLSIM_* settings and the session's home, kept by pytest_configure.
_SESSION_ENV = pytest.StashKey[tuple[dict[str, str], str]]()


def _callers_settings() -> list[str]:
    """The TOOLSIM_* settings in the environment (the ``TOOLSIM_REQUIRE_*`` switches excepted)."""
    return [
        name
        for name in os.environ
        if name.startswith("TOOLSIM_") and not name.startswith("TOOLSIM_REQUIRE_")
    ]


def pytest_configure(config: pytest.Config) -> None:
    """For the whole session, before collection: no TOOLSIM_* settings from the caller's shell,
    and a throwaway TOOLSIM_HOME, so nothing (not even a session fixture or a subprocess) reads
    a developer's settings or touches their cache under ``~/.cache/toolsim``."""
    saved = {name: os.environ.pop(name) for name in _callers_settings()}
    home = tempfile.mkdtemp(prefix="toolsim-test-home-")
    os.environ["TOOLSIM_HOME"] = home
    config.stash[_SESSION_ENV] = (saved, home)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that needs a real model server is slow by nature: the fast lane
    (``pytest -m "not slow"``) leaves out every ``integration`` test too."""
    for item in items:
        if item.get_closest_marker("integration") is not None:
            item.add_marker(pytest.mark.slow)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Give the caller's environment back and drop the session's home."""
    saved, home = config.stash.get(_SESSION_ENV, ({}, None))
    for name in _callers_settings():
        del os.environ[name]
    os.environ.update(saved)
    if home is not None:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every test starts with no TOOLSIM_* settings but a TOOLSIM_HOME of its own (a fresh
    folder outside its ``tmp_path``): what one test sets or stores never reaches another, and
    none touches a developer's cache. The ``TOOLSIM_REQUIRE_*`` switches of ``.ci/run`` stay."""
    for name in _callers_settings():
        monkeypatch.delenv(name)
    monkeypatch.setenv("TOOLSIM_HOME", str(tmp_path_factory.mktemp("toolsim-home")))


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

"""Connections that stall before a request's headers are complete are closed."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from support import ReadyServer

from toolsim.server import create_app
from toolsim.server.connections import HTTP_PROTOCOL
from toolsim.settings import Settings

DEADLINE = 0.5
REQUEST = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"


class ShortDeadline(HTTP_PROTOCOL):  # type: ignore[misc,valid-type]
    """The served protocol with a deadline short enough for a test."""

    header_timeout = DEADLINE


@pytest.fixture
def address(tmp_path: Path) -> Iterator[tuple[str, int]]:
    app = create_app(Settings(home=tmp_path, simulator={"backend": "schema"}))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_config=None, log_level="warning", http=ShortDeadline)
    server = ReadyServer(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        assert server.ready.wait(20)
        yield sock.getsockname()
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()


def _response(connection: socket.socket) -> bytes:
    """One whole response: its headers, then as many body bytes as they announce."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(4096)
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(
        next(
            line.split(b":", 1)[1]
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
    )
    while len(body) < length:
        body += connection.recv(4096)
    return head + b"\r\n\r\n" + body


def _closed_within(connection: socket.socket, seconds: float, trickle: bytes = b"") -> float:
    """Seconds until the server closes ``connection`` (sending ``trickle`` a byte at a time)."""
    started = time.monotonic()
    connection.settimeout(0.1)
    pending = list(trickle)
    while time.monotonic() - started < seconds:
        if pending:
            connection.sendall(bytes([pending.pop(0)]))
        try:
            if connection.recv(4096) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue  # polling a real server's socket, not a sync
        except ConnectionResetError:
            return time.monotonic() - started
    raise AssertionError(f"the connection was still open after {seconds} s")


def test_a_connection_that_sends_nothing_is_closed(address) -> None:
    with socket.create_connection(address) as connection:
        assert DEADLINE * 0.8 < _closed_within(connection, 10) < 10


def test_headers_trickled_a_byte_at_a_time_do_not_keep_it_open(address) -> None:
    # A byte every 0.1 s would keep a per-byte timer from ever firing.
    with socket.create_connection(address) as connection:
        assert _closed_within(connection, 10, trickle=b"GET /healthz HTTP/1.1\r\nHost: t\r\n") < 10


def test_requests_in_time_are_served_and_the_next_one_gets_its_own_deadline(address) -> None:
    with socket.create_connection(address) as connection:
        for _ in range(3):  # each request on the keep-alive connection is answered
            time.sleep(DEADLINE * 0.6)  # a client pausing between requests, under the deadline
            connection.sendall(REQUEST)
            assert b"200 OK" in _response(connection)
        connection.sendall(REQUEST[:10])  # then a request that never completes
        assert _closed_within(connection, 10) < 10

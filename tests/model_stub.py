"""A fault-injecting OpenAI-compatible stub server on loopback, for every role's model tests.

The stub is a small Starlette app served by uvicorn in a background thread, so
the real ``openai`` client talks to it over real sockets. Tests switch its
behaviour per request through :class:`StubControl` and inspect what it saw.
A conftest makes the fixtures available with ``from model_stub import refused_url, stub``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from support import serving

#: Behaviours of ``POST /v1/chat/completions``.
MODES = (
    "ok",
    "slow",
    "500",
    "429",
    "garbage",
    "bad_shape",
    "reject_schema",
    "bad_request",
    "html",
    "broken_json",
)
OK_REPLY = '{"error": "", "response": {"city": "Lisbon", "temperature": 21.5}}'


def _checked(modes: list[str]) -> list[str]:
    unknown = [mode for mode in modes if mode not in MODES]
    if unknown:
        raise ValueError(f"unknown stub modes {unknown}; known: {', '.join(MODES)}")
    return list(modes)


class StubControl:
    """Switches the stub's behaviour and records what it received (thread-safe).

    ``mode`` answers every chat request unless ``sequence`` still holds modes,
    which are consumed one per request first. ``reply`` (or the next of
    ``replies``) is the message content an ``ok`` answer carries.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._mode = "ok"
        self._sequence: list[str] = []
        self.reply = OK_REPLY
        self.replies: list[str] = []
        self.delay = 0.0  # every answer but "slow" waits this long first (to overlap requests)
        self.retry_after: str | None = None  # the Retry-After header of "429" answers
        self.error_message = "stub exploded"  # what a "500" answer says
        self.slow_seconds = 30.0
        self.models = ["stub-model"]
        self.requests: list[dict[str, Any]] = []  # chat request bodies, in arrival order
        self.model_listings = 0
        self.relay_status = 200
        self.relay_body: Any = {"error": "", "response": {"temperature": 20}}
        self.relay_requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        #: When the stub answered each chat request (``time.monotonic()``), by arrival order.
        self.answered: dict[int, float] = {}
        self.stopping = threading.Event()
        self._changed = threading.Condition()

    @property
    def mode(self) -> str:
        """How every chat request is answered once ``sequence`` is used up."""
        return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        self._mode = _checked([mode])[0]

    @property
    def sequence(self) -> list[str]:
        """Modes for the next chat requests, one each, before ``mode`` applies."""
        return self._sequence

    @sequence.setter
    def sequence(self, modes: list[str]) -> None:
        self._sequence = _checked(modes)

    @property
    def relay_url(self) -> str:
        """The stub's StableToolBench relay endpoint."""
        return self.base_url.removesuffix("/v1") + "/relay"

    def _arrived(self, body: dict[str, Any]) -> tuple[int, str, str]:
        with self._changed:
            self.requests.append(body)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            mode = self._sequence.pop(0) if self._sequence else self._mode
            reply = self.replies.pop(0) if self.replies else self.reply
            self._changed.notify_all()
        return len(self.requests) - 1, mode, reply

    def _left(self, index: int) -> None:
        with self._changed:
            self.answered[index] = time.monotonic()
            self.in_flight -= 1
            self._changed.notify_all()

    def _wait_for(self, count: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self.requests) >= count, timeout)

    async def wait_for_requests(self, count: int, timeout: float = 10.0) -> None:
        """Return once the stub has received ``count`` chat requests in all."""
        if not await asyncio.to_thread(self._wait_for, count, timeout):
            raise AssertionError(f"the stub received {len(self.requests)} requests, not {count}")

    def user_message(self, index: int = -1) -> str:
        """The user message of one received chat request."""
        messages = self.requests[index]["messages"]
        return next(m["content"] for m in messages if m["role"] == "user")


def _completion(body: dict[str, Any], content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", ""),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _stub_app(control: StubControl) -> Starlette:
    async def chat(request: Request) -> Response:
        body = await request.json()
        index, mode, reply = control._arrived(body)
        try:
            if control.delay and mode != "slow":
                await asyncio.sleep(control.delay)
            if mode == "slow":
                deadline = time.monotonic() + control.slow_seconds
                while time.monotonic() < deadline and not control.stopping.is_set():
                    await asyncio.sleep(0.05)
                return JSONResponse(_completion(body, OK_REPLY))
            if mode == "500":
                error = {"message": control.error_message}
                return JSONResponse({"error": error}, status_code=500)
            if mode == "429":
                headers = {"retry-after": control.retry_after} if control.retry_after else {}
                error = {"message": "slow down", "type": "rate_limit"}
                return JSONResponse({"error": error}, status_code=429, headers=headers)
            if mode == "garbage":
                return JSONResponse(_completion(body, "Sure! Here is the weather: sunny"))
            if mode == "html":  # a web page, as at a mistyped base URL
                return HTMLResponse("<html><body>Welcome to nginx!</body></html>")
            if mode == "broken_json":
                return Response(
                    '{"id": "chatcmpl-stub", "choices": [', media_type="application/json"
                )
            if mode == "bad_shape":
                return JSONResponse(_completion(body, '{"temperature": 21.5}'))
            if mode == "bad_request":
                error = {"message": "messages: too long", "type": "invalid_request_error"}
                return JSONResponse({"error": error}, status_code=400)
            if mode == "reject_schema":
                kind = (body.get("response_format") or {}).get("type")
                if kind == "json_schema":
                    message = "response_format of type json_schema is not supported"
                    error = {"message": message, "type": "invalid_request_error"}
                    return JSONResponse({"error": error}, status_code=400)
            return JSONResponse(_completion(body, reply))
        finally:
            control._left(index)

    async def models(request: Request) -> Response:
        control.model_listings += 1
        data = [
            {"id": name, "object": "model", "created": 0, "owned_by": "stub"}
            for name in control.models
        ]
        return JSONResponse({"object": "list", "data": data})

    async def relay(request: Request) -> Response:
        control.relay_requests.append(await request.json())
        return JSONResponse(control.relay_body, status_code=control.relay_status)

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/relay", relay, methods=["POST"]),
        ]
    )


@pytest.fixture
def stub() -> Iterator[StubControl]:
    """A fault-injecting OpenAI-compatible server on 127.0.0.1; ``stub.base_url`` ends in /v1."""
    control = StubControl("")
    with serving(_stub_app(control), lifespan="off", timeout_graceful_shutdown=2) as base:
        control.base_url = f"{base}/v1"
        try:
            yield control
        finally:
            control.stopping.set()  # lets answers still waiting go, so the server can stop


@pytest.fixture
def refused_url() -> str:
    """A loopback base URL nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"

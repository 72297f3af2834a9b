"""Server fixtures: apps on a tmp_path cache, in-process clients, a scripted simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from toolsim.cache.entry import Reply, Source
from toolsim.server import create_app
from toolsim.settings import Settings
from toolsim.simulator.base import Simulation, SimulationRequest, register_simulator


class ScriptedSimulator:
    """A fake simulator: counts calls, replays scripted outcomes, can wait on a gate.

    ``outcomes`` is consumed first (a :class:`Reply` is returned, an exception
    raised); after that every call answers ``{"call": n, "arguments": ...}``, so
    two simulations of the same call never look alike.
    """

    name = "scripted"

    def __init__(self) -> None:
        self.calls: list[SimulationRequest] = []
        self.outcomes: list[Reply | Exception] = []
        self.gate: asyncio.Event | None = None
        self._entered = asyncio.Event()

    async def simulate(self, request: SimulationRequest) -> Simulation:
        self.calls.append(request)
        self._entered.set()
        if self.gate is not None:
            await self.gate.wait()
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if isinstance(outcome, Exception):
            raise outcome
        reply = outcome or Reply(response={"call": len(self.calls), "arguments": request.arguments})
        return Simulation(reply=reply, source=Source.SIMULATED, simulator=self.name, model="fake")

    async def wait_for_calls(self, count: int) -> None:
        """Return once ``count`` simulations have started."""
        while len(self.calls) < count:
            self._entered.clear()
            await self._entered.wait()

    async def aclose(self) -> None:
        pass


@register_simulator("scripted")
def _create_scripted(**options: Any) -> ScriptedSimulator:
    return ScriptedSimulator()


class BodyReadBarrier:
    """ASGI wrapper whose ``ready`` event is set once ``expected`` requests read their body.

    Between reading its body and waiting on a simulation, a request never yields
    to the event loop; so when ``ready`` fires, every one of them is waiting.
    """

    def __init__(self, app: ASGIApp, expected: int) -> None:
        self.app = app
        self.expected = expected
        self.read = 0
        self.ready = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                self.read += 1
                if self.read >= self.expected:
                    self.ready.set()
            return message

        await self.app(scope, counted, send)


def _connect(app: ASGIApp) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
def make_app(tmp_path: Any) -> Iterator[Callable[..., FastAPI]]:
    """Build apps on the example suite, the scripted simulator and a cache in tmp_path."""
    apps: list[FastAPI] = []

    def make(**settings: Any) -> FastAPI:
        # The scripted simulator unless a test picks another (its other settings kept).
        simulator = {"backend": "scripted"} | settings.pop("simulator", {})
        options = {"home": tmp_path, "tools": ["example"], "simulator": simulator} | settings
        app = create_app(Settings(**options))
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.state.service.backend.close()


@pytest.fixture
def app(make_app: Callable[..., FastAPI]) -> FastAPI:
    """A record-mode app."""
    return make_app()


@pytest.fixture
def fake(app: FastAPI) -> ScriptedSimulator:
    """The scripted simulator behind ``app``."""
    return app.state.service.simulator


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client for ``app``."""
    async with _connect(app) as http:
        yield http


@pytest.fixture
def connect() -> Callable[[ASGIApp], AbstractAsyncContextManager[httpx.AsyncClient]]:
    """Open an in-process client for any app (``async with connect(app) as client``)."""
    return _connect


@pytest.fixture
def barrier() -> type[BodyReadBarrier]:
    """The :class:`BodyReadBarrier` class, to wrap an app in."""
    return BodyReadBarrier

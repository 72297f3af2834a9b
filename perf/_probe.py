"""An instrumented toolsim server for ``loop_stalls.py``: garbage-collector pauses and loop lag.

``uvicorn --factory _probe:probed_app`` serves toolsim from the environment as
``toolsim serve`` does (``app_from_env``; with ``PROBE_NO_FREEZE=1``, without
:func:`~toolsim.server.app.ready_to_serve`, as before issue 16) and records, until
the server shuts down, into the JSON file ``PROBE_OUT`` names:

* every collection: generation, wall and CPU milliseconds (CPU leaves out the
  time the process waited for a core on a busy machine);
* event-loop lag: how late a 1 ms sleep wakes up, sampled back to back, so
  every stall of the loop (a collection, a blocking call, a long callback) shows;
* at shutdown, what one full collection costs with everything the server holds
  (the pause the event loop meets whenever the collector decides on one).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import time
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from toolsim.server.app import app_from_env, create_app
from toolsim.settings import Settings

TICK = 0.001


class Probe:
    """Collection pauses and loop lag, written to ``path`` when the server shuts down."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.collections: list[tuple[int, float, float]] = []
        self.lags: list[float] = []
        self._began = (0.0, 0.0)
        self.recording = False
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = (time.perf_counter(), time.thread_time())
        elif self.recording:
            wall, cpu = self._began
            self.collections.append(
                (
                    info["generation"],
                    (time.perf_counter() - wall) * 1e3,
                    (time.thread_time() - cpu) * 1e3,
                )
            )

    async def sample_lag(self) -> None:
        """Sleep 1 ms again and again, recording how late each wake-up is."""
        loop = asyncio.get_running_loop()
        while True:
            began = loop.time()
            await asyncio.sleep(TICK)
            if self.recording:
                self.lags.append(max(0.0, (loop.time() - began - TICK) * 1e3))

    def write(self) -> None:
        """Write what was recorded, and what one full collection costs now."""
        self.recording = False
        wall, cpu = time.perf_counter(), time.thread_time()
        gc.collect()
        full = ((time.perf_counter() - wall) * 1e3, (time.thread_time() - cpu) * 1e3)
        document = {
            "full_collection_ms": full,
            "collections": self.collections,
            "lags_ms": self.lags,
            "tracked_objects": len(gc.get_objects()),
            "frozen_objects": gc.get_freeze_count(),
        }
        with open(self.path, "w") as out:
            json.dump(document, out)


class Probed:
    """ASGI wrapper starting the lag sampler with the server; ``POST /probe`` starts recording."""

    def __init__(self, app: ASGIApp, probe: Probe) -> None:
        self.app = app
        self.probe = probe
        self._sampler: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            self._sampler = asyncio.create_task(self.probe.sample_lag())
            await self.app(scope, receive, send)  # returns when the server shuts down
            self._sampler.cancel()
            self.probe.write()
            return
        if scope["type"] == "http" and scope["path"] == "/probe":
            # Recording starts after the warm-up, so that start-up work is left out.
            self.probe.recording = True
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)


def probed_app() -> Probed:
    """The toolsim server of the environment, instrumented."""
    probe = Probe(os.environ["PROBE_OUT"])
    if os.environ.get("PROBE_NO_FREEZE"):
        return Probed(create_app(Settings()), probe)
    return Probed(app_from_env(), probe)

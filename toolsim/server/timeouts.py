"""A per-request time limit: a request that takes too long gets 504 instead of hanging.

The simulator has its own, shorter limit (``simulator.timeout``); this one is the
backstop for anything else that could stall a request. A simulation still
running when its request is cut off is not cancelled: it is shared by every
identical request (single-flight) and its valid reply is still stored. An
event stream (``text/event-stream``, such as an MCP client's ``GET /mcp``) is
meant to stay open: once one has started, the limit no longer applies to it.

A timer per request (``asyncio.timeout``) costs about a third of a cache hit's
whole answer, so requests are grouped by deadline into slots of a tenth of the
limit (at most a second), with one timer per slot: a request is cut off between
``seconds`` and ``seconds`` plus a slot after it began. The cancellation is
done and undone as ``asyncio.timeout`` does it, so other cancellations pass.

The ``/virtual`` door sits in front of this middleware and uses it directly: a
cache hit has nothing to wait for but its body, and only that wait is watched
(:meth:`RequestTimeout.watch`); a miss is served with :meth:`RequestTimeout.limited`.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from toolsim.server.asgi import send_error

log = logging.getLogger("toolsim.server")


class RequestTimeout:
    """ASGI middleware cutting off HTTP requests that take longer than ``seconds``."""

    def __init__(
        self, app: ASGIApp, seconds: float, on_timeout: Callable[[], None] | None = None
    ) -> None:
        self.app = app
        self.seconds = seconds
        self.on_timeout = on_timeout
        self._width = min(1.0, seconds / 10)
        self._slots: dict[int, set[asyncio.Task[object]]] = {}
        self._cut: set[asyncio.Task[object]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.limited(scope, receive, send)

    async def limited(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        watched_tasks: set[asyncio.Task[object]] | None = None,
        *,
        app: ASGIApp | None = None,
    ) -> None:
        """Serve an HTTP request within the limit, with ``app`` (default: the wrapped app).

        ``watched_tasks``: the slot of a request already watched since it began
        (see :meth:`watch`), so that its limit still counts from then.
        """
        task = asyncio.current_task()
        assert task is not None
        if watched_tasks is None:
            watched_tasks = self.watch(task)
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if _is_event_stream(message):
                    watched_tasks.discard(task)
            await send(message)

        try:
            await (app or self.app)(scope, receive, watched)
        except asyncio.CancelledError:
            if not self.cut(task):
                raise  # cancelled by someone else (too)
        else:
            return  # in time, or the app swallowed the cancellation and answered
        finally:
            self.release(task, watched_tasks)
        if started:
            # A response cannot be replaced once begun: stop here, and the
            # server closes the connection on the incomplete response.
            self._report(scope)
            return
        await self.answer_cut(scope, send)

    def cut(self, task: asyncio.Task[object]) -> bool:
        """Whether a cancellation of ``task`` came from this limit alone."""
        return task in self._cut and task.cancelling() <= 1

    async def answer_cut(self, scope: Scope, send: Send) -> None:
        """Count and log a request cut off by the limit, and answer it 504."""
        self._report(scope)
        message = f"the request took longer than the {self.seconds:g} s time limit"
        await send_error(scope, send, 504, "timeout", message)

    def release(self, task: asyncio.Task[object], watched: set[asyncio.Task[object]]) -> None:
        """Stop watching ``task``, undoing this limit's cancellation of it if any."""
        watched.discard(task)
        if task in self._cut:
            self._cut.discard(task)
            task.uncancel()

    def watch(self, task: asyncio.Task[object]) -> set[asyncio.Task[object]]:
        """Cut ``task`` off when the limit passes (until :meth:`release`); return its slot.

        Puts ``task`` in the slot of its deadline, starting that slot's timer if new.
        """
        loop = asyncio.get_running_loop()
        slot = math.ceil((loop.time() + self.seconds) / self._width)
        tasks = self._slots.get(slot)
        if tasks is None:
            tasks = self._slots[slot] = set()
            loop.call_at(slot * self._width, self._expire, slot)
        tasks.add(task)
        return tasks

    def _expire(self, slot: int) -> None:
        for task in self._slots.pop(slot, ()):
            if not task.done():
                self._cut.add(task)
                task.cancel()

    def _report(self, scope: Scope) -> None:
        if self.on_timeout is not None:
            self.on_timeout()
        log.warning(
            "%s %s took longer than the %g s request time limit",
            scope["method"],
            scope["path"][:200],
            self.seconds,
        )


def _is_event_stream(start: Message) -> bool:
    for name, value in start.get("headers", ()):
        if name.lower() == b"content-type":
            return value.split(b";")[0].strip().lower() == b"text/event-stream"
    return False

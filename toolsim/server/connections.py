"""A deadline for a request's headers: connections that stall before a request are closed.

uvicorn times out a connection idle *between* requests (its keep-alive timeout),
but not one that opens and then sends nothing, or sends headers a byte at a
time: each such connection is kept for ever, and enough of them use up the
server's file descriptors. The request time limit (:mod:`toolsim.server.timeouts`)
starts only once a request's headers are in. So every connection must complete
a request's headers within :data:`HEADER_TIMEOUT` seconds of sending its first
byte (or of connecting), or it is closed.

The protocol classes here are uvicorn's own (httptools when installed, else h11)
with that deadline added; ``toolsim serve`` runs uvicorn with :data:`HTTP_PROTOCOL`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

#: Seconds a connection has to deliver a request's headers.
HEADER_TIMEOUT = 10.0


class HeaderDeadline:
    """Mixin for a uvicorn HTTP protocol: close connections whose headers do not arrive."""

    header_timeout: float = HEADER_TIMEOUT
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    cycle: Any

    def connection_made(self, transport: Any) -> None:  # noqa: D102
        super().connection_made(transport)  # type: ignore[misc]
        self._deadline: asyncio.TimerHandle | None = None
        self._arm()

    def data_received(self, data: bytes) -> None:  # noqa: D102
        super().data_received(data)  # type: ignore[misc]
        if self._between_requests():
            self._arm()  # a new request began: its headers are due (the first deadline holds)
        elif self._deadline is not None:
            self._deadline.cancel()  # the headers are in; the request time limit takes over
            self._deadline = None

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: D102
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        super().connection_lost(exc)  # type: ignore[misc]

    def _between_requests(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.header_timeout, self._expired)

    def _expired(self) -> None:
        self._deadline = None
        if self._between_requests() and not self.transport.is_closing():
            self.transport.close()


class H11WithHeaderDeadline(HeaderDeadline, H11Protocol):
    """uvicorn's h11 protocol with the header deadline."""


try:  # uvicorn's faster parser, used when httptools is installed (an optional package)
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools comes with uvicorn[standard]
    HTTP_PROTOCOL: type[asyncio.Protocol] = H11WithHeaderDeadline
else:

    class HttpToolsWithHeaderDeadline(HeaderDeadline, HttpToolsProtocol):
        """uvicorn's httptools protocol with the header deadline."""

    HTTP_PROTOCOL = HttpToolsWithHeaderDeadline

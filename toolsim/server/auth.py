"""Optional bearer-token authentication for every endpoint but ``/healthz``.

A pure ASGI middleware placed outside everything else, so it also guards
``POST /virtual`` (served by middleware, not a route), ``/mcp`` and the docs.
The token is compared in constant time and never logged or echoed.
"""

from __future__ import annotations

import hmac

from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send

from toolsim.server.asgi import send_error

#: Paths open without a token: load balancers and orchestrators probe liveness.
OPEN_PATHS = frozenset({"/healthz"})

_MISSING = [(b"www-authenticate", b"Bearer")]
_INVALID = [(b"www-authenticate", b'Bearer error="invalid_token"')]


class BearerAuth:
    """ASGI middleware requiring ``Authorization: Bearer <token>``; 401 otherwise."""

    def __init__(self, app: ASGIApp, token: SecretStr) -> None:
        secret = token.get_secret_value()
        if not secret:
            raise ValueError("the bearer token must not be empty")
        self.app = app
        self._expected = secret.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if scope["type"] == "lifespan" or scope.get("path") in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        given = _bearer(scope)
        if given is not None and hmac.compare_digest(given, self._expected):
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1008})  # policy violation
            return
        if given is None:
            message = "authentication required: send 'Authorization: Bearer <token>'"
            await send_error(scope, send, 401, "unauthorized", message, _MISSING)
        else:
            await send_error(scope, send, 401, "unauthorized", "invalid bearer token", _INVALID)


def _bearer(scope: Scope) -> bytes | None:
    """The token of the first ``Authorization: Bearer`` header, or None."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.strip().partition(b" ")
            if scheme.lower() == b"bearer" and token.strip():
                return token.strip()
            return None
    return None

"""The order of the ASGI layers every request passes through, declared in this one place.

Outermost first::

    AccessLog       server.access_log       one JSON line per request (off by default)
    BearerAuth      server.auth_token       401 without the token (off by default)
    VirtualDoor     POST /virtual, whole    hits from memory; misses (and calls inside an
                                            episode, X-Toolsim-Episode) under the time limit
    RequestTimeout  server.request_timeout  504 when a request takes too long
    FastAPI         (its own middleware, in the order added by the app factory:)
      McpPath       /mcp                    the MCP endpoint
      /ws           OpenEnv front           episodes over a WebSocket (a route)
      routes        /v1/..., /stats, ...    with the error handlers of server/errors.py

With telemetry on (``TOOLSIM_SERVER__OTEL``), the ``/virtual`` door moves inside FastAPI,
behind its tracing, so that every request (cache hits too) is traced; the time
limit then wraps it from outside.

:class:`~toolsim.server.app.ToolsimApp` enters the outermost layer; FastAPI's own
handling is its ``stack``.
"""

from __future__ import annotations

from pydantic import SecretStr
from starlette.types import ASGIApp

from toolsim.server.access_log import AccessLog
from toolsim.server.auth import BearerAuth
from toolsim.server.episodes import Episodes
from toolsim.server.service import ToolService
from toolsim.server.timeouts import RequestTimeout
from toolsim.server.virtual import VirtualDoor
from toolsim.settings import Settings


def front_layers(
    stack: ASGIApp, service: ToolService, settings: Settings, episodes: Episodes | None = None
) -> ASGIApp:
    """Everything in front of FastAPI's ``stack``, in the order the module docstring draws."""
    limit = RequestTimeout(
        stack, seconds=settings.request_time_limit(), on_timeout=service.metrics.count_timeout
    )
    front: ASGIApp = limit
    if not settings.server.otel:
        # With a fault profile every call goes through the service, which applies it.
        hits = service.faults is None
        front = VirtualDoor(
            front,
            service,
            settings.server.max_body_bytes,
            limit=limit,
            answer_hits=hits,
            episodes=episodes,
        )
    if settings.server.auth_token is not None:
        front = BearerAuth(front, token=SecretStr(settings.server.auth_token))
    if settings.server.access_log:
        front = AccessLog(front)
    return front


def door_inside_fastapi(settings: Settings) -> bool:
    """Whether the ``/virtual`` door is FastAPI middleware (telemetry on) instead of in front."""
    return settings.server.otel

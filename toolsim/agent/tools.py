"""Calling the virtual tools over the StableToolBench protocol (``POST /virtual``).

Any StableToolBench-compatible server works with ``--server``; without it a
toolsim server runs in-process (ASGI, no port) over the same query files.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from toolsim.catalog import Catalog
from toolsim.catalog.models import ApiSpec
from toolsim.errors import UserError
from toolsim.settings import Settings

IN_PROCESS_URL = "http://toolsim.in-process"


@dataclass(frozen=True, slots=True)
class ToolReply:
    """What the server said about one call."""

    error: str
    response: Any
    #: "cache" for a replayed reply, else the server's source ("simulated", ...), or
    #: "server" when the server does not say (a non-toolsim server).
    source: str
    #: False when no reply was had at all (transport failure, HTTP error): not charged.
    answered: bool = True

    def observation(self, limit: int) -> str:
        """The reply as the model sees it: JSON text, cut to ``limit`` characters."""
        text = json.dumps({"error": self.error, "response": self.response}, ensure_ascii=False)
        return text if len(text) <= limit else text[:limit]


class ToolClient:
    """Sends calls to a server's ``/virtual``."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def call(self, api: ApiSpec, arguments: dict[str, Any]) -> ToolReply:
        """Call ``api``; a failure to get any reply becomes an error reply (never raises)."""
        body = {
            "category": api.category,
            "tool_name": api.tool_name,
            "api_name": api.name,
            "tool_input": json.dumps(arguments, ensure_ascii=False),
            "strip": "",
            "toolbench_key": "",
        }
        try:
            answer = await self.http.post("/virtual", json=body)
        except httpx.HTTPError as exc:
            return ToolReply(f"the tool server could not be reached: {exc}", "", "none", False)
        try:
            data = answer.json()
        except ValueError:
            data = None
        if answer.status_code != 200 or not isinstance(data, dict):
            detail = data.get("error") if isinstance(data, dict) else answer.text[:200]
            return ToolReply(
                f"the tool server answered HTTP {answer.status_code}: {detail}", "", "none", False
            )
        source = answer.headers.get("x-toolsim-source", "server")
        if answer.headers.get("x-toolsim-cached") == "true":
            source = "cache"
        return ToolReply(str(data.get("error") or ""), data.get("response", ""), source)


def _headers(settings: Settings) -> dict[str, str]:
    # A toolsim server with auth on needs the token; it is never logged or written.
    if settings.server.auth_token:
        return {"Authorization": f"Bearer {settings.server.auth_token}"}
    return {}


def server_base(url: str) -> str:
    """The server's base URL, whether or not ``/virtual`` was given."""
    url = url.strip().rstrip("/")
    if url.endswith("/virtual"):
        url = url[: -len("/virtual")]
    if not url.startswith(("http://", "https://")):
        raise UserError(f"--server must be an http(s) URL, got {url!r}")
    return url


@contextlib.asynccontextmanager
async def open_tools(
    settings: Settings, catalog: Catalog, server: str | None, *, timeout: float
) -> AsyncIterator[ToolClient]:
    """A tool client: to ``server``, or to an in-process toolsim server over ``catalog``."""
    if server is not None:
        base = server_base(server)
        async with httpx.AsyncClient(
            base_url=base, timeout=timeout, headers=_headers(settings)
        ) as http:
            try:
                await http.get("/")
            except httpx.HTTPError as exc:
                raise UserError(f"cannot reach the tool server at {base}: {exc}") from None
            yield ToolClient(http)
        return
    from toolsim.server import create_app

    app = create_app(settings, catalog=catalog)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=transport,
            base_url=IN_PROCESS_URL,
            timeout=timeout,
            headers=_headers(settings),
        ) as http,
    ):
        yield ToolClient(http)

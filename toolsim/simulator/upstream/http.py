"""Calling the real server of an OpenAPI operation, the way its document says.

Each argument goes where its parameter lives (path, query, header, cookie, or
the body as JSON or form fields); the reply is the server's JSON (or text).
A success, and a client error that is the API's own answer (404 "Pet not
found"), are real replies, recorded like any other; a failure of the moment
(401/403 credentials, 408, 429, 5xx, no connection) is raised as
:class:`UpstreamError` and never stored. Configured headers and query
parameters (credentials) are added to every request and appear in no error
message: messages name the operation and the status, not the URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from toolsim.catalog.models import ApiSpec, HttpOperation
from toolsim.errors import UpstreamError

#: Statuses that say nothing about the call (auth, throttling, the server's health).
TRANSIENT = frozenset({401, 403, 407, 408, 425, 429})


class OpenApiCaller:
    """Sends calls to the real servers of OpenAPI operations."""

    def __init__(
        self,
        *,
        server: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> None:
        #: Overrides every operation's own server URL (e.g. a local copy of the API).
        self.server = server
        self._client = httpx.AsyncClient(
            timeout=timeout, headers=dict(headers or {}), params=dict(params or {})
        )

    async def call(
        self, api: ApiSpec, operation: HttpOperation, arguments: dict[str, Any]
    ) -> tuple[str, Any]:
        """``(error, response)`` of the real server for one call of ``api``."""
        base = (self.server or operation.server).rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise UpstreamError(
                f"no server URL for {api.name}: the document names "
                f"{operation.server or 'none'}; set TOOLSIM_REAL_TOOLS__OPENAPI_SERVER"
            )
        request = _request(api, operation, arguments)
        try:
            answer = await self._client.request(
                operation.method, base + request.pop("path"), **request
            )
        except httpx.HTTPError as exc:
            raise UpstreamError(f"the server of {api.name} failed: {type(exc).__name__}") from None
        if answer.status_code in TRANSIENT or answer.status_code >= 500:
            raise UpstreamError(
                f"the server of {api.name} gave no answer to record (HTTP {answer.status_code})",
                status=answer.status_code,
            )
        body = _body_of(answer)
        if answer.is_success:
            return "", body
        return f"HTTP {answer.status_code} {answer.reason_phrase}".strip(), body

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()


def _request(api: ApiSpec, operation: HttpOperation, arguments: dict[str, Any]) -> dict[str, Any]:
    """httpx request options (and the expanded ``path``) for one call."""
    path = operation.path
    query: dict[str, Any] = {}
    headers: dict[str, str] = {}
    cookies: dict[str, str] = {}
    body: dict[str, Any] = {}
    whole: Any = None
    for name, value in arguments.items():
        if value is None:
            continue
        param = api.signature.lookup(name)
        location = param.location if param is not None else "query"
        if location == "path":
            path = path.replace("{" + name + "}", quote(_text(value), safe=""))
        elif location == "header":
            headers[name] = _text(value)
        elif location == "cookie":
            cookies[name] = _text(value)
        elif location == "body" and name == operation.whole_body:
            whole = value
        elif location == "body":
            body[name] = value
        else:
            query[name] = [_text(v) for v in value] if isinstance(value, list) else _text(value)
    options: dict[str, Any] = {
        "path": path,
        "params": query,
        "headers": headers,
        "cookies": cookies,
    }
    content = whole if operation.whole_body else (body or None)
    if content is not None:
        if operation.body in ("application/x-www-form-urlencoded", "multipart/form-data"):
            options["data"] = content
        else:
            options["json"] = content
    return options


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _body_of(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return answer.text

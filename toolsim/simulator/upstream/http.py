"""Calling the real server of an OpenAPI operation, the way its document says.

Each argument goes where its parameter lives (path, query, header, cookie, or
the body as JSON or form fields); the reply is the server's JSON (or text).
A success, and a client error that is the API's own answer (404 "Pet not
found"), are real replies, recorded like any other; a failure of the moment
(401/403 credentials, 408, 429, 5xx, no connection) is raised as
:class:`UpstreamError` and never stored. Credentials go where the operation's
security schemes say (:mod:`toolsim.simulator.upstream.credentials`), added to
the request only as it is sent: no message, log line or stored reply holds
them (messages name the operation and the status, not the URL).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from toolsim.catalog.models import ApiSpec, HttpOperation
from toolsim.errors import InvalidArguments, UpstreamError
from toolsim.simulator.upstream.credentials import (
    EXTENSION,
    Credentials,
    CredentialTransport,
    refusal,
)

#: Statuses that say nothing about the call (auth, throttling, the server's health).
TRANSIENT = frozenset({401, 403, 407, 408, 425, 429})


class OpenApiCaller:
    """Sends calls to the real servers of OpenAPI operations."""

    def __init__(
        self,
        *,
        server: str | None = None,
        credentials: Credentials | None = None,
        timeout: float = 30.0,
    ) -> None:
        #: Overrides every operation's own server URL (e.g. a local copy of the API).
        self.server = server
        self.credentials = credentials or Credentials()
        self._client = httpx.AsyncClient(
            timeout=timeout, transport=CredentialTransport(httpx.AsyncHTTPTransport())
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
        authorisation = self.credentials.authorise(operation)
        try:
            answer = await self._client.request(
                operation.method,
                base + request.pop("path"),
                extensions={EXTENSION: authorisation.placement},
                **request,
            )
        except httpx.HTTPError as exc:
            raise UpstreamError(f"the server of {api.name} failed: {type(exc).__name__}") from None
        status = answer.status_code
        if status in (401, 403) and authorisation.unmet:
            raise UpstreamError(refusal(api.name, status, authorisation.unmet), status=status)
        if status in TRANSIENT or status >= 500:
            raise UpstreamError(
                f"the server of {api.name} gave no answer to record (HTTP {status})",
                status=status,
            )
        body = _body_of(answer)
        if answer.is_success:
            return "", body
        return f"HTTP {status} {answer.reason_phrase}".strip(), body

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
            if _text(value) == "":  # the URL would name another endpoint (/pet/ for /pet/{id})
                raise InvalidArguments(f"parameter '{name}' of {api.name} cannot be empty")
            path = path.replace("{" + name + "}", _segment(_text(value)))
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
    if cookies:  # one header: httpx no longer takes cookies per request
        headers["cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    options: dict[str, Any] = {"path": path, "params": query, "headers": headers}
    content = whole if operation.whole_body else (body or None)
    if content is not None:
        if operation.body in ("application/x-www-form-urlencoded", "multipart/form-data"):
            options["data"] = content
        else:
            options["json"] = content
    return options


def _segment(text: str) -> str:
    """``text`` as one path segment: every ``/`` encoded, and ``.`` or ``..`` too, which a URL
    would otherwise resolve to another endpoint (``/pet/..`` is ``/``)."""
    segment = quote(text, safe="")
    return segment.replace(".", "%2E") if segment in (".", "..") else segment


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _body_of(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return answer.text

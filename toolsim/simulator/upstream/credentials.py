"""Credentials for real OpenAPI servers: which configured secret goes where, added last.

Secrets come only from settings: per security scheme of a document, by the
scheme's name (``TOOLSIM_REAL_TOOLS__CREDENTIALS``), and headers and query
parameters for every call (``TOOLSIM_REAL_TOOLS__HEADERS`` / ``__PARAMS``). An
operation's security requirement (read from its document, see
:class:`~toolsim.catalog.models.SecurityScheme`) says which schemes it takes:
the first alternative whose schemes all have a credential is used, each put
where its scheme says (an ``apiKey`` in its header, query parameter or cookie;
``http`` bearer and ``oauth2``/``openIdConnect`` tokens as ``Authorization:
Bearer``; ``http`` basic from ``user:password``).

:class:`CredentialTransport` adds them to a request only as it is sent, on a
copy: the request the HTTP client logs, and every error, holds none of them.
An operation whose requirement no configured credential meets is still called
(documents often ask for more than their servers check); if the server then
refuses it (401/403), the error names the schemes that lacked a credential.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx
from pydantic import SecretStr

from toolsim.catalog.models import HttpOperation, SecurityScheme

#: The request extension that carries a call's credentials down to the transport.
EXTENSION = "toolsim.credentials"
#: Where credentials are configured, for messages.
SETTING = "TOOLSIM_REAL_TOOLS__CREDENTIALS"


@dataclass(frozen=True, slots=True)
class Placement:
    """Secrets for one request, by where they go."""

    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Authorisation:
    """What one call carries, and, when no alternative of its requirement could be met,
    those alternatives (to name in an error if the server refuses the call)."""

    placement: Placement
    unmet: tuple[tuple[SecurityScheme, ...], ...] = ()


class Credentials:
    """The configured secrets, and which of them a call of an operation carries."""

    def __init__(
        self,
        schemes: Mapping[str, SecretStr | str] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> None:
        self._schemes = {name: _secret(value) for name, value in (schemes or {}).items()}
        self._headers = dict(headers or {})
        self._params = dict(params or {})
        self._header_names = {name.lower() for name in self._headers}

    def authorise(self, operation: HttpOperation) -> Authorisation:
        """The secrets a call of ``operation`` carries (see the module docstring)."""
        placement = Placement(dict(self._headers), dict(self._params))
        alternatives = operation.security
        if not alternatives or any(not schemes for schemes in alternatives):
            chosen: tuple[SecurityScheme, ...] | None = next(
                (schemes for schemes in alternatives if schemes and self._meets(schemes)), ()
            )
        else:
            chosen = next((schemes for schemes in alternatives if self._meets(schemes)), None)
        if chosen is None:
            return Authorisation(placement, alternatives)
        for scheme in chosen:
            secret = self._schemes.get(scheme.name)
            if secret is not None:
                _place(scheme, secret, placement)
        return Authorisation(placement)

    def _meets(self, schemes: tuple[SecurityScheme, ...]) -> bool:
        return all(self._met(scheme) for scheme in schemes)

    def _met(self, scheme: SecurityScheme) -> bool:
        """Whether a credential for ``scheme`` is configured: by its name, or already among
        the headers or parameters sent with every call."""
        if scheme.name in self._schemes:
            return _placeable(scheme)
        if scheme.kind == "apiKey" and scheme.location == "header":
            return scheme.parameter.lower() in self._header_names
        if scheme.kind == "apiKey" and scheme.location == "query":
            return scheme.parameter in self._params
        if scheme.kind in ("http", "oauth2", "openIdConnect"):
            return "authorization" in self._header_names
        return False


def refusal(operation_name: str, status: int, unmet: tuple[tuple[SecurityScheme, ...], ...]) -> str:
    """The message for a call the server refused (401/403) that lacked a credential."""
    wanted = " or ".join(
        " and ".join(f"'{scheme.name}' ({scheme.describe()})" for scheme in schemes)
        for schemes in unmet
    )
    example = unmet[0][0].name if unmet and unmet[0] else "scheme"
    return (
        f"the server of {operation_name} refused the call (HTTP {status}): its document asks "
        f"for a credential of the security scheme {wanted}, and none is configured; give it "
        f'in {SETTING} (JSON, e.g. {{"{example}": "..."}})'
    )


class CredentialTransport(httpx.AsyncBaseTransport):
    """Sends each request with the secrets its :data:`EXTENSION` carries added to a copy."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` with its credentials; the request itself is left without them."""
        placement = request.extensions.get(EXTENSION)
        if not isinstance(placement, Placement):
            return await self.inner.handle_async_request(request)
        headers = request.headers.copy()
        headers.update(placement.headers)
        cookies = "; ".join(f"{name}={value}" for name, value in placement.cookies.items())
        if cookies:
            present = headers.get("cookie")
            headers["cookie"] = f"{present}; {cookies}" if present else cookies
        url = request.url.copy_merge_params(placement.params) if placement.params else request.url
        extensions = {k: v for k, v in request.extensions.items() if k != EXTENSION}
        sent = httpx.Request(
            request.method, url, headers=headers, stream=request.stream, extensions=extensions
        )
        return await self.inner.handle_async_request(sent)

    async def aclose(self) -> None:
        """Close the transport underneath."""
        await self.inner.aclose()


def _secret(value: SecretStr | str) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else str(value)


def _placeable(scheme: SecurityScheme) -> bool:
    """Whether toolsim knows where a credential of ``scheme`` goes."""
    if scheme.kind == "apiKey":
        return scheme.location in ("header", "query", "cookie") and bool(scheme.parameter)
    if scheme.kind == "http":
        return scheme.scheme in ("bearer", "basic")
    return scheme.kind in ("oauth2", "openIdConnect")


def _place(scheme: SecurityScheme, secret: str, placement: Placement) -> None:
    """Put ``secret`` where ``scheme`` says."""
    if scheme.kind == "apiKey":
        where = {
            "header": placement.headers,
            "query": placement.params,
            "cookie": placement.cookies,
        }[scheme.location]
        where[scheme.parameter] = secret
    elif scheme.kind == "http" and scheme.scheme == "basic":
        token = base64.b64encode(secret.encode()).decode("ascii")
        placement.headers["Authorization"] = f"Basic {token}"
    else:  # http bearer, oauth2, openIdConnect: an access token
        placement.headers["Authorization"] = f"Bearer {secret}"

"""Calls to real OpenAPI servers: each credential goes where its document's security scheme
says, comes only from settings, and is in no request the client logs, no error and no stored
reply; an argument never changes which endpoint is called."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from support import serving

from toolsim.catalog import Catalog
from toolsim.catalog.models import HttpOperation, SecurityScheme
from toolsim.errors import InvalidArguments, UpstreamError
from toolsim.settings import Settings
from toolsim.simulator import SimulationRequest
from toolsim.simulator.factories import upstream_simulator
from toolsim.simulator.upstream import Credentials

SECRET = "s3cret-never-shown"
SCHEMES = {
    "headerKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
    "queryKey": {"type": "apiKey", "in": "query", "name": "key"},
    "cookieKey": {"type": "apiKey", "in": "cookie", "name": "session"},
    "bearerAuth": {"type": "http", "scheme": "bearer"},
    "basicAuth": {"type": "http", "scheme": "basic"},
    "oauth": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "/t", "scopes": {}}}},
}


def _operation(path: str, security: list[dict[str, list[str]]] | None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": path.strip("/"),
        "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "what the server saw"}},
    }
    if security is not None:
        operation["security"] = security
    return {"get": operation}


@pytest.fixture
def catalog(tmp_path: Path, echo: str) -> Catalog:
    """A document with one operation per security requirement, served by ``echo``."""
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Vault", "version": "1"},
        "servers": [{"url": echo}],
        "security": [{"headerKey": []}],
        "paths": {
            "/default": _operation("/default", None),
            "/query": _operation("/query", [{"queryKey": []}]),
            "/cookie": _operation("/cookie", [{"cookieKey": []}]),
            "/bearer": _operation("/bearer", [{"bearerAuth": []}]),
            "/basic": _operation("/basic", [{"basicAuth": []}]),
            "/oauth": _operation("/oauth", [{"oauth": ["read"]}]),
            "/both": _operation("/both", [{"headerKey": [], "queryKey": []}]),
            "/either": _operation("/either", [{"oauth": []}, {"cookieKey": []}]),
            "/optional": _operation("/optional", [{}, {"bearerAuth": []}]),
            "/public": _operation("/public", []),
            "/item/{id}": {
                "get": {
                    "operationId": "item",
                    "security": [{"headerKey": []}],
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {"200": {"description": "the path the server saw"}},
                }
            },
        },
        "components": {"securitySchemes": SCHEMES},
    }
    path = tmp_path / "vault.yaml"
    path.write_text(yaml.safe_dump(document))
    return Catalog.from_paths([path])


@pytest.fixture
def echo() -> Iterator[str]:
    """A real server that says which credentials reached it; 401 when none did."""

    async def seen(request: Request) -> JSONResponse:
        found = {
            "header": request.headers.get("x-api-key"),
            "query": request.query_params.get("key"),
            "cookie": request.cookies.get("session"),
            "authorization": request.headers.get("authorization"),
        }
        found = {k: v for k, v in found.items() if v}
        if not found and request.url.path not in ("/public", "/optional"):
            return JSONResponse({"message": "unauthorised"}, status_code=401)
        return JSONResponse(found)

    async def path(request: Request) -> JSONResponse:
        return JSONResponse({"path": request.scope["raw_path"].decode()})

    routes = [Route("/item/{rest:path}", path), Route("/{name:path}", seen)]
    with serving(Starlette(routes=routes)) as base:
        yield base


async def _call(
    catalog: Catalog, name: str, arguments: dict[str, Any] | None = None, **real_tools: Any
) -> Any:
    settings = Settings(simulator={"backend": "upstream"}, real_tools=real_tools)
    simulator = upstream_simulator(settings=settings)
    api = catalog.resolve("OpenAPI", "Vault", name)
    try:
        simulation = await simulator.simulate(
            SimulationRequest(api=api, arguments=arguments or {"q": "x"}, key="0" * 64)
        )
    finally:
        await simulator.aclose()
    return simulation.reply.response


ALL = {name: SECRET for name in SCHEMES} | {"basicAuth": f"ann:{SECRET}"}
BASIC = "Basic " + base64.b64encode(f"ann:{SECRET}".encode()).decode()


@pytest.mark.parametrize(
    ("operation", "seen"),
    [
        ("default", {"header": SECRET}),  # the document's own requirement
        ("query", {"query": SECRET}),
        ("cookie", {"cookie": SECRET}),
        ("bearer", {"authorization": f"Bearer {SECRET}"}),
        (
            "basic",
            {"authorization": "Basic " + base64.b64encode(f"ann:{SECRET}".encode()).decode()},
        ),
        ("oauth", {"authorization": f"Bearer {SECRET}"}),
        ("both", {"header": SECRET, "query": SECRET}),
        ("either", {"authorization": f"Bearer {SECRET}"}),  # the first alternative met
        ("optional", {"authorization": f"Bearer {SECRET}"}),  # optional, but given
        ("public", {}),  # asks for none: none is sent
    ],
)
async def test_each_credential_goes_where_its_scheme_says(
    catalog: Catalog, operation: str, seen: dict[str, str]
):
    assert await _call(catalog, operation, credentials=ALL) == seen


async def test_the_first_alternative_with_credentials_is_used(catalog: Catalog):
    assert await _call(catalog, "either", credentials={"cookieKey": SECRET}) == {"cookie": SECRET}
    # An optional requirement with no credential configured is called without one.
    assert await _call(catalog, "optional") == {}


async def test_headers_sent_with_every_call_meet_a_scheme_too(catalog: Catalog):
    assert await _call(catalog, "default", headers={"x-api-key": SECRET}) == {"header": SECRET}


async def test_a_refused_call_without_its_credential_names_the_schemes(catalog: Catalog):
    with pytest.raises(UpstreamError) as caught:
        await _call(catalog, "either", credentials={"headerKey": SECRET})
    message = str(caught.value)
    assert "refused the call (HTTP 401)" in message
    assert "'oauth' (oauth2, a bearer token) or 'cookieKey' (apiKey in cookie 'session')" in message
    assert "TOOLSIM_REAL_TOOLS__CREDENTIALS" in message and SECRET not in message
    with pytest.raises(UpstreamError, match=r"'headerKey' \(apiKey in header 'X-Api-Key'\) and"):
        await _call(catalog, "both", credentials={"queryKey": SECRET})


async def test_no_credential_reaches_a_log_line_or_an_error(
    catalog: Catalog, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)  # the HTTP client logs every request's URL at INFO
    for operation in ("default", "query", "cookie", "bearer", "basic"):
        await _call(catalog, operation, credentials=ALL)
    assert any("HTTP Request" in record.getMessage() for record in caplog.records)
    assert not any(SECRET in record.getMessage() for record in caplog.records)


def test_credentials_stay_out_of_the_settings_repr():
    settings = Settings(real_tools={"credentials": {"api_key": SECRET}})
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())
    assert settings.real_tools.credentials["api_key"].get_secret_value() == SECRET


def test_an_operation_without_a_requirement_carries_only_the_common_secrets():
    credentials = Credentials({"api_key": SECRET}, headers={"X-Common": "c"})
    granted = credentials.authorise(HttpOperation("GET", "/x"))
    assert granted.placement.headers == {"X-Common": "c"} and not granted.unmet
    key = SecurityScheme("api_key", "apiKey", "header", "api_key")
    unknown = SecurityScheme("mtls", "mutualTLS")
    granted = credentials.authorise(HttpOperation("GET", "/x", security=((unknown,), (key,))))
    assert granted.placement.headers == {"X-Common": "c", "api_key": SECRET}
    refused = Credentials().authorise(HttpOperation("GET", "/x", security=((unknown,),)))
    assert refused.unmet == ((unknown,),)


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ("..", "/item/%2E%2E"),  # not /: a dot-segment would climb out of the operation
        (".", "/item/%2E"),
        ("../admin", "/item/..%2Fadmin"),
        ("a b/c", "/item/a%20b%2Fc"),
    ],
)
async def test_a_path_argument_never_leaves_its_operations_path(
    catalog: Catalog, value: str, path: str
):
    seen = await _call(catalog, "item", {"id": value}, credentials={"headerKey": SECRET})
    assert seen == {"path": path}


async def test_an_empty_path_argument_is_refused(catalog: Catalog):
    with pytest.raises(InvalidArguments, match="parameter 'id' of item cannot be empty"):
        await _call(catalog, "item", {"id": ""}, credentials={"headerKey": SECRET})

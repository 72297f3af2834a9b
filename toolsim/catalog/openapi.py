"""OpenAPI 3.x documents (JSON or YAML, a file or a URL) as a tool.

The document is validated with ``openapi-spec-validator`` and its ``$ref`` s
resolved with ``jsonref``; then the spec's title is the tool and every
operation one API: its ``operationId`` (else ``METHOD /path``) the API's name,
its path, query, header and cookie parameters and its request body's properties
the API's parameters (types, enums, required flags, descriptions, schemas), and
its success response's example or schema the reply template. Each API keeps
where its real server is reached (:class:`~toolsim.catalog.models.HttpOperation`),
for recording real replies.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import jsonref
import yaml

from toolsim.catalog.json_schema import object_parameters, parameter, template
from toolsim.catalog.models import ApiSpec, HttpOperation, Parameter, ToolSpec
from toolsim.errors import UserError

#: The category every OpenAPI tool is filed under (the document names none).
CATEGORY = "OpenAPI"
#: The parameter holding a request body that is not an object of named properties.
BODY = "body"
#: Seconds to fetch a document given by URL.
FETCH_TIMEOUT = 30.0

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_LOCATIONS = ("path", "query", "header", "cookie")
_BODY_TYPES = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")


def is_url(source: str) -> bool:
    """Whether a ``--tools`` entry is an http(s) URL."""
    return source.startswith(("http://", "https://"))


def read_document(source: str) -> Any:
    """The parsed document at a path or URL (YAML, which includes JSON)."""
    if is_url(source):
        try:
            answer = httpx.get(source, timeout=FETCH_TIMEOUT, follow_redirects=True)
            answer.raise_for_status()
        except httpx.HTTPError as exc:
            raise UserError(f"cannot fetch the OpenAPI document {source}: {exc}") from None
        text = answer.text
    else:
        text = Path(source).read_text(encoding="utf-8")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UserError(f"{source} is not valid YAML or JSON: {exc}") from None


def is_openapi(document: Any) -> bool:
    """Whether a parsed document is an OpenAPI (or Swagger) description."""
    return isinstance(document, dict) and ("openapi" in document or "swagger" in document)


def load_openapi(source: str) -> ToolSpec:
    """The tool an OpenAPI 3.x document at a path or URL describes."""
    return tool_from_openapi(read_document(source), source=source)


def tool_from_openapi(document: Any, *, source: str) -> ToolSpec:
    """The tool a parsed OpenAPI 3.x document describes; ``source`` is where it was read.

    Raises :class:`UserError` naming ``source`` for anything but a valid 3.x document.
    """
    if not is_openapi(document):
        raise UserError(f"{source} is not an OpenAPI document (no 'openapi' field)")
    if "swagger" in document:
        raise UserError(
            f"{source} is a Swagger 2.0 document; toolsim reads OpenAPI 3.x "
            "(convert it, e.g. with swagger2openapi)"
        )
    # Imported here: the validator takes seconds to import, and most catalogs have no OpenAPI.
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    try:
        validate(document)
    except OpenAPIValidationError as exc:
        where = "/".join(str(part) for part in exc.absolute_path) or "(top level)"
        raise UserError(
            f"{source} is not a valid OpenAPI document: at {where}: {exc.message}"
        ) from None
    base = source if is_url(source) else Path(source).resolve().as_uri()
    try:
        spec = jsonref.replace_refs(document, base_uri=base, proxies=False, lazy_load=False)
    except jsonref.JsonRefError as exc:
        raise UserError(f"{source}: cannot resolve {exc.reference!r}: {exc.message}") from None
    info = spec.get("info") or {}
    title = str(info.get("title") or Path(source).stem)
    description = str(info.get("description") or "")
    apis = []
    for path, item in (spec.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in _METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                apis.append(
                    _api(spec, source, title, description, str(path), method, item, operation)
                )
    return ToolSpec(category=CATEGORY, name=title, description=description, apis=tuple(apis))


def _api(
    spec: dict[str, Any],
    source: str,
    title: str,
    tool_description: str,
    path: str,
    method: str,
    item: dict[str, Any],
    operation: dict[str, Any],
) -> ApiSpec:
    name = str(operation.get("operationId") or f"{method.upper()} {path}")
    summary = str(operation.get("summary") or "").strip()
    details = str(operation.get("description") or "").strip()
    description = " ".join(
        part for part in (summary, details if details != summary else "") if part
    )
    parameters = _parameters(item, operation)
    media, body_params, whole = _body(operation, {p.name for p in parameters})
    servers = operation.get("servers") or item.get("servers") or spec.get("servers") or []
    return ApiSpec(
        category=CATEGORY,
        tool_name=title,
        name=name,
        description=description,
        method=method.upper(),
        parameters=tuple(parameters + body_params),
        template_response=_reply_template(operation),
        tool_description=tool_description,
        origin=HttpOperation(
            method=method.upper(),
            path=path,
            server=_server_url(servers, source),
            body=media,
            whole_body=whole,
        ),
    )


def _parameters(item: dict[str, Any], operation: dict[str, Any]) -> list[Parameter]:
    """Path-level parameters overridden by the operation's own (same name and location)."""
    chosen: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*(item.get("parameters") or []), *(operation.get("parameters") or [])]:
        if isinstance(raw, dict) and raw.get("name") and raw.get("in") in _LOCATIONS:
            chosen[(str(raw["name"]), str(raw["in"]))] = raw
    parameters = []
    for (name, location), raw in chosen.items():
        schema = raw.get("schema")
        if schema is None:  # a parameter described by a media type instead
            content: dict[str, Any] = raw.get("content") or {}
            media: dict[str, Any] = next(iter(content.values()), {}) or {}
            schema = media.get("schema")
        parameters.append(
            parameter(
                name,
                schema,
                required=bool(raw.get("required")) or location == "path",
                description=str(raw.get("description") or ""),
                location=location,
            )
        )
    return parameters


def _body(operation: dict[str, Any], taken: set[str]) -> tuple[str, list[Parameter], str]:
    """The body's media type, its parameters, and the whole-body parameter's name if any.

    An object body whose properties clash with no other parameter is flattened
    (agents pass ``name`` and ``status``, not a nested object); any other body is
    one parameter, :data:`BODY`.
    """
    body = operation.get("requestBody")
    if not isinstance(body, dict):
        return "", [], ""
    content = body.get("content") or {}
    media = next((m for m in _BODY_TYPES if m in content), next(iter(content), ""))
    if not media:
        return "", [], ""
    schema = (content.get(media) or {}).get("schema") or {}
    required = bool(body.get("required"))
    properties = object_parameters(schema, location="body")
    if properties and not {p.name for p in properties} & taken:
        if not required:
            properties = [replace(p, required=False) for p in properties]
        return media, properties, ""
    whole = parameter(
        BODY,
        schema,
        required=required,
        description=str(body.get("description") or ""),
        location="body",
    )
    return media, [whole], BODY


def _reply_template(operation: dict[str, Any]) -> Any:
    """The success response's JSON example, else a template of its schema; None if neither."""
    responses = operation.get("responses") or {}
    codes = sorted(str(code) for code in responses if str(code).startswith("2"))
    chosen = responses.get(codes[0]) if codes else responses.get("default")
    if not isinstance(chosen, dict):
        return None
    content = chosen.get("content") or {}
    media = next((m for m in content if m == "application/json" or m.endswith("+json")), None)
    media = media or next((m for m in content if "json" in m), None)
    if media is None:
        return None
    described = content[media] or {}
    if "example" in described:
        return described["example"]
    examples = described.get("examples")
    if isinstance(examples, dict) and examples:
        first = next(iter(examples.values()))
        if isinstance(first, dict) and "value" in first:
            return first["value"]
    schema = described.get("schema")
    return template(schema) if isinstance(schema, dict) else None


def _server_url(servers: list[Any], source: str) -> str:
    """The first server's URL with its variables at their defaults, made absolute if it can be."""
    if not servers or not isinstance(servers[0], dict):
        return ""
    url = str(servers[0].get("url") or "")
    for name, variable in (servers[0].get("variables") or {}).items():
        if isinstance(variable, dict):
            url = url.replace("{" + str(name) + "}", str(variable.get("default", "")))
    if not is_url(url) and is_url(source):
        url = urljoin(source, url)
    return url

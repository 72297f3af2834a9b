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
from urllib.parse import urljoin, urlsplit

import jsonref

from toolsim.catalog.documents import (
    EveryScheme,
    base_uri,
    is_url,
    read_document,
    reference_loader,
    shown_source,
)
from toolsim.catalog.json_schema import object_parameters, parameter, template
from toolsim.catalog.models import ApiSpec, HttpOperation, Parameter, SecurityScheme, ToolSpec
from toolsim.errors import UserError

#: The category every OpenAPI tool is filed under (the document names none).
CATEGORY = "OpenAPI"
#: The parameter holding a request body that is not an object of named properties.
BODY = "body"

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_LOCATIONS = ("path", "query", "header", "cookie")
_BODY_TYPES = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")


def is_openapi(document: Any) -> bool:
    """Whether a parsed document is an OpenAPI (or Swagger) description."""
    return isinstance(document, dict) and ("openapi" in document or "swagger" in document)


def load_openapi(source: str) -> ToolSpec:
    """The tool the OpenAPI 3.x document at a path or URL describes."""
    return tool_from_openapi(read_document(source), source=source)


def tool_from_openapi(document: Any, *, source: str) -> ToolSpec:
    """The tool a parsed OpenAPI 3.x document describes; ``source`` is where it was read.

    Raises :class:`UserError` naming ``source`` for anything but a valid 3.x document.
    """
    shown = shown_source(source)
    if not is_openapi(document):
        raise UserError(f"{shown} is not an OpenAPI document ({_what_it_is(document)})")
    if "swagger" in document:
        raise UserError(
            f"{shown} is a Swagger 2.0 document; toolsim reads OpenAPI 3.x "
            "(convert it, e.g. with swagger2openapi)"
        )
    base, loader = base_uri(source), reference_loader(source)
    _validate(document, shown, base, loader)
    try:
        spec = jsonref.replace_refs(
            document, base_uri=base, loader=loader, proxies=False, lazy_load=False
        )
    except jsonref.JsonRefError as exc:
        raise _unresolved(shown, str(exc.reference), exc) from None
    info = spec.get("info") or {}
    title = str(info.get("title") or Path(urlsplit(source).path).stem)
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


def _validate(document: dict[str, Any], shown: str, base: str, loader: Any) -> None:
    """Validate ``document`` against its OpenAPI version's schema, reading the documents it
    refers to with ``loader`` only; a :class:`UserError` naming the place of the first problem."""
    # Imported here: the validator takes seconds to import, and most catalogs have no OpenAPI.
    from jsonschema_path import SchemaPath
    from openapi_spec_validator.shortcuts import get_validator_cls
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
    from referencing.exceptions import Unresolvable

    try:
        validator = get_validator_cls(document)
    except Exception as exc:  # the validator's own errors for a version it does not know
        raise UserError(f"{shown}: unsupported OpenAPI version: {exc}") from None
    path = SchemaPath.from_dict(document, base_uri=base, handlers=EveryScheme(loader))
    try:
        validator(path).validate()
    except OpenAPIValidationError as exc:
        where = "".join(
            f"[{part!r}]" if isinstance(part, int) or "/" in str(part) else f".{part}"
            for part in exc.absolute_path
        ).lstrip(".")
        raise UserError(
            f"{shown} is not a valid OpenAPI document: at {where or '(top level)'}: {exc.message}"
        ) from None
    except Unresolvable as exc:
        raise _unresolved(shown, str(exc.ref), exc) from None


def _what_it_is(document: Any) -> str:
    """What a parsed document that is not an OpenAPI one holds, for the error."""
    if isinstance(document, dict):
        return "an object without an 'openapi' field"
    if isinstance(document, list):
        return "a list, not an object"
    if document is None:
        return "it is empty"
    return "plain text or a scalar, not an object" if isinstance(document, str) else "a scalar"


def _unresolved(shown: str, reference: str, exc: BaseException) -> UserError:
    """The error for a ``$ref`` that could not be resolved: the loader's own if it refused."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, UserError):
        cause = cause.__cause__
    return cause if cause is not None else UserError(f"{shown}: cannot resolve {reference!r}")


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
            security=_security(spec, operation),
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


def _security(
    spec: dict[str, Any], operation: dict[str, Any]
) -> tuple[tuple[SecurityScheme, ...], ...]:
    """The operation's security requirement (else the document's), its schemes looked up."""
    requirement = operation.get("security", spec.get("security"))
    if not isinstance(requirement, list):
        return ()
    schemes = ((spec.get("components") or {}).get("securitySchemes")) or {}
    alternatives = []
    for alternative in requirement:
        if isinstance(alternative, dict):
            alternatives.append(tuple(_scheme(str(n), schemes.get(n)) for n in alternative))
    return tuple(alternatives)


def _scheme(name: str, raw: Any) -> SecurityScheme:
    """One ``securitySchemes`` entry (an unknown name is a scheme no credential can meet)."""
    if not isinstance(raw, dict):
        return SecurityScheme(name=name, kind="")
    return SecurityScheme(
        name=name,
        kind=str(raw.get("type") or ""),
        location=str(raw.get("in") or ""),
        parameter=str(raw.get("name") or ""),
        scheme=str(raw.get("scheme") or "").lower(),
    )


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

"""Reading tool description documents (OpenAPI), and the documents their ``$ref`` s name.

A document is a file or an http(s) URL given to ``--tools``, in YAML (which
includes JSON). Its ``$ref`` s to other documents are read by
:func:`reference_loader`, under one rule: a document read from a URL may refer
only to other http(s) URLs, never to a local file (its ``$ref: file:///...`` is
refused), so a document from the network cannot make toolsim show agents what a
file on this machine holds. A document read from a file (the user's own) may
refer to files and URLs. Schemas that arrive from an MCP server refer only
inside themselves (:func:`no_documents`).

Every failure is a :class:`UserError` naming the document (a URL shown without
what could be credentials: its user, password and query).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx

from toolsim.errors import UserError
from toolsim.files import parse_yaml, read_yaml

#: Seconds to fetch a document given by URL.
FETCH_TIMEOUT = 30.0
#: Largest document read from a URL (a bigger answer is refused, not read to the end).
MAX_DOCUMENT_BYTES = 32 * 2**20

Loader = Callable[[str], Any]


def is_url(source: str) -> bool:
    """Whether a ``--tools`` entry (or a reference) is an http(s) URL."""
    return source.startswith(("http://", "https://"))


def shown_url(url: str) -> str:
    """``url`` as it may be shown in messages: no user, password, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def shown_source(source: str) -> str:
    """A document's path, or its URL as :func:`shown_url` shows it."""
    return shown_url(source) if is_url(source) else source


def fetch_text(url: str, what: str = "OpenAPI document") -> str:
    """The text at an http(s) URL; a :class:`UserError` naming it if there is none."""
    shown = shown_url(url)
    try:
        with httpx.stream("GET", url, timeout=FETCH_TIMEOUT, follow_redirects=True) as answer:
            if answer.status_code >= 400:
                raise UserError(
                    f"cannot fetch the {what} {shown}: HTTP {answer.status_code} "
                    f"{answer.reason_phrase}".rstrip()
                )
            chunks, size = [], 0
            for chunk in answer.iter_bytes():
                size += len(chunk)
                if size > MAX_DOCUMENT_BYTES:
                    raise UserError(
                        f"the {what} {shown} is larger than {MAX_DOCUMENT_BYTES // 2**20} MiB"
                    )
                chunks.append(chunk)
            encoding = answer.encoding or "utf-8"
    except httpx.HTTPError as exc:
        raise UserError(f"cannot fetch the {what} {shown}: {_reason(exc)}") from None
    try:
        return b"".join(chunks).decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise UserError(f"the {what} {shown} is not text") from None


def read_document(source: str) -> Any:
    """The parsed document at a path or URL (YAML, which includes JSON)."""
    if is_url(source):
        return parse_yaml(fetch_text(source), shown_url(source), "OpenAPI document")
    return read_yaml(Path(source), "OpenAPI document")


def base_uri(source: str) -> str:
    """The URI a document's relative ``$ref`` s are resolved against."""
    return source if is_url(source) else Path(source).resolve().as_uri()


def reference_loader(source: str) -> Loader:
    """Reads the documents that the document at ``source`` refers to (see the module's rule)."""
    from_network = is_url(source)

    def load(uri: str) -> Any:
        parts = urlsplit(uri)
        if parts.scheme in ("http", "https"):
            return parse_yaml(fetch_text(uri, "referenced document"), shown_url(uri), "document")
        if parts.scheme == "file" and not from_network:
            return read_yaml(Path(url2pathname(parts.path)), "referenced document")
        allowed = "http(s) URLs" if from_network else "files and http(s) URLs"
        raise UserError(
            f"{shown_source(source)} refers to {shown_source(uri)}, which toolsim does not read "
            f"(a document read from {'a URL' if from_network else 'a file'} may refer to "
            f"{allowed} only)"
        )

    return load


def no_documents(uri: str) -> Any:
    """A loader for schemas that may refer only inside themselves: refuses every document."""
    raise UserError(f"a schema may refer only inside itself, not to {shown_source(uri)}")


class EveryScheme(Mapping[str, Loader]):
    """One loader for every URI scheme, as the spec validator's ``handlers`` (it falls back to
    reading any scheme it has no handler for with ``urlopen``, which this leaves no room for)."""

    def __init__(self, loader: Loader) -> None:
        self.loader = loader

    def __getitem__(self, scheme: str) -> Loader:
        return self.loader

    def __contains__(self, scheme: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _reason(exc: httpx.HTTPError) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

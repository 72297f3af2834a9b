"""Credentials never leave toolsim in text: URLs are shown without them, everywhere.

A model, Redis or relay URL may carry a password (``redis://:secret@host``,
``https://user:token@gpu-box/v1``) or a key in its query (``?api_key=...``).
Every URL toolsim names in a message, an error an agent sees, or a log line
goes through :func:`redacted`; every error message is passed through
:func:`scrub` (see :class:`toolsim.errors.ToolsimError`), which redacts each URL
inside a text, such as one a client library quoted in its own exception.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: What replaces a secret.
HIDDEN = "***"

#: Query parameters whose values are secrets.
_SECRET_NAMES = re.compile(
    r"key|token|secret|password|passwd|pwd|auth|sig|signature|credential", re.IGNORECASE
)
#: A URL inside free text: a scheme, ``://``, then anything up to a space or a quote.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def redacted(url: str) -> str:
    """``url`` with its user name, password and secret query values replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{HIDDEN}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_SECRET_NAMES.search(name) for name, _ in pairs):
            query = urlencode(
                [(name, HIDDEN if _SECRET_NAMES.search(name) else value) for name, value in pairs],
                safe="*",
            )
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def scrub(text: str) -> str:
    """``text`` with every URL in it :func:`redacted` (cheap when it holds none)."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda found: redacted(found.group(0)), text)

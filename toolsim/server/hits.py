"""Cache hits kept in process memory as ready-to-send replies.

A stored reply never changes in record/replay mode, so the first time a call is
answered from the store (or stored after a miss), its ``/virtual`` reply is
serialised once, with its headers, into the two ASGI messages that send it.
Every later hit sends those same messages: no JSON encoding, no header list,
and no per-hit allocation beyond what the server itself makes.

The memory holds bytes and flat tuples rather than reply objects, so a full
memory adds almost nothing for the garbage collector to scan (a full
collection over hundreds of thousands of live objects was the largest pause
a hit could meet).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.types import Message

from toolsim.cache.entry import Reply, Source
from toolsim.server.stats import HIT, CounterKey

_JSON = (b"content-type", b"application/json")


def reply_bytes(error: str, response: Any) -> bytes:
    """The ``/virtual`` reply document ``{"error", "response"}`` as JSON bytes."""
    try:
        return orjson.dumps({"error": error, "response": response})
    except TypeError:
        # orjson refuses integers beyond 64 bits, which a simulator may produce.
        return json.dumps({"error": error, "response": response}, default=str).encode()


#: On a recorded reply to arguments that break the API's documentation: what breaks it.
VALIDATION_HEADER = "x-toolsim-invalid-arguments"


def validation_headers(problems: tuple[str, ...]) -> list[tuple[bytes, bytes]]:
    """The header reporting ``problems`` of a call answered as recorded (none if none)."""
    if not problems:
        return []
    text = "; ".join(problems).encode("ascii", "backslashreplace")
    return [(VALIDATION_HEADER.encode(), text.replace(b"\r", b" ").replace(b"\n", b" "))]


def provenance_headers(source: Source, cached: bool) -> list[tuple[bytes, bytes]]:
    """Where a reply came from, as on the native route (reference clients ignore it)."""
    return [
        (b"x-toolsim-source", source.value.encode()),
        (b"x-toolsim-cached", b"true" if cached else b"false"),
    ]


@dataclass(frozen=True, slots=True)
class PreparedHit:
    """A stored reply, ready to send as a ``/virtual`` hit.

    Attributes:
        key: The cache key.
        source: Who produced the stored reply.
        counter_key: What a hit is counted under in the call statistics.
        start: The ``http.response.start`` message (status 200, every header).
        body: The ``http.response.body`` message holding the reply document.
    """

    key: str
    source: Source
    counter_key: CounterKey
    start: Message
    body: Message

    @classmethod
    def of(cls, key: str, function: str, reply: Reply, source: Source) -> PreparedHit:
        """Serialise ``reply`` once, as every later hit of ``key`` will send it."""
        headers = (_JSON, *provenance_headers(source, cached=True))
        return cls(
            key=key,
            source=source,
            counter_key=(function, HIT, source.value),
            start={"type": "http.response.start", "status": 200, "headers": headers},
            body={"type": "http.response.body", "body": reply_bytes(reply.error, reply.response)},
        )

    def reply(self) -> Reply:
        """The reply as an object (for the native route, MCP and in-process callers)."""
        # The standard library's parser: orjson would turn integers over 64 bits into floats.
        document = json.loads(self.body["body"])
        return Reply.model_construct(error=document["error"], response=document["response"])


class HitMemory:
    """Prepared hits by cache key: at most ``capacity`` of them, holding at most
    ``max_bytes`` of reply bodies in all; the oldest is dropped first."""

    def __init__(self, capacity: int, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.capacity = capacity
        self.max_bytes = max_bytes
        #: Bytes of reply bodies kept now.
        self.bytes = 0
        self._hits: OrderedDict[str, PreparedHit] = OrderedDict()
        #: ``get(key)``: the prepared hit of ``key``, if kept (the mapping's own
        #: method: asked on every hit, a Python-level wrapper would double its cost).
        self.get = self._hits.get

    def keep(self, hit: PreparedHit) -> None:
        """Keep ``hit``, dropping the oldest while over either bound (a reply larger than
        ``max_bytes`` alone is not kept: it is read from the store each time)."""
        size = len(hit.body["body"])
        if self.capacity <= 0 or size > self.max_bytes:
            self.forget(hit.key)
            return
        self.forget(hit.key)
        while self._hits and (
            len(self._hits) >= self.capacity or self.bytes + size > self.max_bytes
        ):
            _, dropped = self._hits.popitem(last=False)
            self.bytes -= len(dropped.body["body"])
        self._hits[hit.key] = hit
        self.bytes += size

    def forget(self, key: str) -> None:
        """Drop ``key`` if kept."""
        dropped = self._hits.pop(key, None)
        if dropped is not None:
            self.bytes -= len(dropped.body["body"])

    def clear(self) -> None:
        """Drop every kept hit (the next hits read the store)."""
        self._hits.clear()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._hits)

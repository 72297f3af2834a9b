"""A tiny MCP server written with the official MCP SDK: a notebook of short notes.

toolsim's docs and tests use it as "your own MCP server": ``toolsim serve --tools
"mcp:python examples/mcp_server/notes_server.py"`` lists its tools over stdio,
and ``python examples/mcp_server/notes_server.py --http --port 8765`` serves the
same tools over streamable HTTP (``--tools mcp:http://127.0.0.1:8765/mcp``).

Its replies are deterministic (no clock, no randomness), so a recorded reply can
be compared with the real one byte for byte.
"""

from __future__ import annotations

import argparse
from typing import Literal

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field

server = MCPServer(
    "notes",
    instructions="A notebook: add short notes with a topic, search them, count them by topic.",
)

_NOTES: list[dict[str, object]] = [
    {"id": 1, "topic": "travel", "text": "Book the night train to Vienna"},
    {"id": 2, "topic": "work", "text": "Send the quarterly report"},
    {"id": 3, "topic": "travel", "text": "Renew the passport before May"},
]


class Note(BaseModel):
    """One note."""

    id: int = Field(description="The note's number.")
    topic: str = Field(description="What the note is about.")
    text: str = Field(description="The note itself.")


class SearchResult(BaseModel):
    """Notes matching a search."""

    query: str
    notes: list[Note]


@server.tool()
def add_note(text: str, topic: Literal["travel", "work", "home"] = "home") -> Note:
    """Add a note under a topic and return it with its number."""
    note = {"id": len(_NOTES) + 1, "topic": topic, "text": text}
    _NOTES.append(note)
    return Note.model_validate(note)


@server.tool()
def search_notes(query: str, limit: int = 5) -> SearchResult:
    """Find notes whose text contains the query (case-insensitive), at most `limit`."""
    found = [n for n in _NOTES if query.lower() in str(n["text"]).lower()][: max(limit, 0)]
    return SearchResult(query=query, notes=[Note.model_validate(n) for n in found])


@server.tool()
def count_by_topic() -> dict[str, int]:
    """How many notes each topic has."""
    counts: dict[str, int] = {}
    for note in _NOTES:
        counts[str(note["topic"])] = counts.get(str(note["topic"]), 0) + 1
    return counts


def main() -> None:
    """Serve over stdio, or over streamable HTTP with ``--http``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--http", action="store_true", help="Serve streamable HTTP at /mcp.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    options = parser.parse_args()
    if options.http:
        server.run("streamable-http", host=options.host, port=options.port)
    else:
        server.run("stdio")


if __name__ == "__main__":
    main()

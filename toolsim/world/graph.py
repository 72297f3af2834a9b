"""The world as a networkx graph: entities, the APIs that produced or mentioned them.

Nodes are entities (``kind="entity"``: type, category, tool, id, facts) and APIs
(``kind="api"``); an edge API -> entity records one call (``key``, the cache key)
whose reply produced the entity (``role="reply"``) or whose arguments mentioned it
(``role="argument"``), with the reply's source (``reply_source``); an edge entity -> entity
(``role="refers"``) an identifier field of one naming the other.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from toolsim.errors import UserError
from toolsim.files import write_text_atomic
from toolsim.world.store import SEP, facts_of

EXPORT_FORMATS = ("json", "graphml")


def _node(record_name: str) -> str:
    _kind, category, tool, key = record_name.split(SEP, 3)
    return f"{category}/{tool}/{key}"


def build_graph(records: Iterable[tuple[str, dict[str, Any]]]) -> nx.MultiDiGraph:
    """The graph of a world table's records (see the module docstring)."""
    graph = nx.MultiDiGraph()
    for name, entity in records:
        if not name.startswith("e" + SEP) or "id" not in entity:
            continue
        _kind, category, tool, key = name.split(SEP, 3)
        node = _node(name)
        graph.add_node(
            node,
            kind="entity",
            type=entity.get("type", ""),
            category=category,
            tool=tool,
            id=entity.get("id"),
            id_field=entity.get("id_field", ""),
            facts=facts_of(entity),
        )
        for field_name, value in entity.items():
            if field_name.startswith("s:") and isinstance(value, dict):
                api = f"api:{category}/{tool}/{value.get('api', '')}"
                graph.add_node(api, kind="api", category=category, tool=tool, api=value.get("api"))
                graph.add_edge(
                    api,
                    node,
                    key=field_name[2:],
                    role=value.get("role", "reply"),
                    reply_source=value.get("source", ""),
                )
            elif field_name.startswith("r:"):
                graph.add_edge(node, _node(field_name[2:]), role="refers", field=value)
    return graph


@dataclass
class WorldSummary:
    """Counts for ``toolsim world show``."""

    entities: int = 0
    facts: int = 0
    apis: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    by_source: Counter[str] = field(default_factory=Counter)
    by_api: Counter[str] = field(default_factory=Counter)
    #: (node, type, number of facts, APIs it came from), biggest first.
    largest: list[tuple[str, str, int, list[str]]] = field(default_factory=list)


def summarize(graph: nx.MultiDiGraph, top: int = 10) -> WorldSummary:
    """Entities by type, where they came from (sources and APIs), and the largest ones."""
    summary = WorldSummary()
    rows = []
    for node, data in graph.nodes(data=True):
        if data.get("kind") == "api":
            summary.apis += 1
            continue
        summary.entities += 1
        summary.facts += len(data.get("facts", {}))
        summary.by_type[data.get("type") or "(untyped)"] += 1
        apis = set()
        for api, _node_name, edge in graph.in_edges(node, data=True):
            if edge.get("role") in ("reply", "argument"):
                summary.by_source[edge.get("reply_source") or "?"] += 1
                apis.add(graph.nodes[api].get("api", ""))
        for api in apis:
            summary.by_api[f"{data['tool']}/{api}"] += 1
        rows.append((node, data.get("type", ""), len(data.get("facts", {})), sorted(apis)))
    rows.sort(key=lambda row: (-row[2], row[0]))
    summary.largest = rows[:top]
    return summary


def _flat(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) else json.dumps(value)


def export_graph(graph: nx.MultiDiGraph, path: Path, fmt: str = "json") -> None:
    """Write the graph: node-link JSON (``json``) or GraphML (facts as ``fact.<name>``)."""
    if fmt == "json":
        data = nx.node_link_data(graph, edges="edges")
        write_text_atomic(path, json.dumps(data, indent=1, ensure_ascii=False, default=str))
        return
    if fmt != "graphml":
        raise UserError(f"unknown export format {fmt!r}; known: {', '.join(EXPORT_FORMATS)}")
    flat = nx.MultiDiGraph()
    for node, data in graph.nodes(data=True):
        attributes = {k: _flat(v) for k, v in data.items() if k != "facts" and v is not None}
        for name, value in data.get("facts", {}).items():
            attributes[f"fact.{name}"] = _flat(value)
        flat.add_node(node, **attributes)
    for source, target, key, data in graph.edges(keys=True, data=True):
        flat.add_edge(source, target, key=str(key), **{k: _flat(v) for k, v in data.items()})
    lines = "\n".join(nx.generate_graphml(flat))
    write_text_atomic(path, lines + "\n")

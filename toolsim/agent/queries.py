"""Which queries a run solves: query files (or ``example``), optionally some ids only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from toolsim.catalog import Catalog
from toolsim.catalog.catalog import api_id
from toolsim.catalog.loaders import load_sources
from toolsim.catalog.models import Query
from toolsim.errors import UserError
from toolsim.runs import safe_name


def load_queries(
    sources: Sequence[str | Path | Query], query_ids: Sequence[str] = ()
) -> tuple[Catalog, list[Query]]:
    """The catalog of every API the sources define, and the queries to run, in file order.

    ``query_ids`` selects queries by id (``88``) or group and id
    (``G1_instruction:88``). Each query's APIs are taken from the catalog, which
    merges every definition of an API into the richest one.
    """
    paths = [source for source in sources if not isinstance(source, Query)]
    given = [source for source in sources if isinstance(source, Query)]
    if not paths and not given:
        raise UserError("no queries given: name query files or 'example'")
    tools, loaded = load_sources(paths) if paths else ([], [])
    queries = _unique([*loaded, *given])
    if not queries:
        raise UserError(f"no queries found in {', '.join(str(p) for p in paths)}")
    catalog = Catalog(tools, queries)
    chosen = _select(queries, query_ids) if query_ids else queries
    return catalog, [_resolved(catalog, query) for query in chosen]


def _unique(queries: list[Query]) -> list[Query]:
    seen: dict[tuple[str, str], Query] = {}
    for query in queries:
        safe_name(query.group, "query group")
        safe_name(query.query_id, f"query id in {query.group}")
        seen.setdefault((query.group, query.query_id), query)
    return list(seen.values())


def _select(queries: list[Query], wanted: Sequence[str]) -> list[Query]:
    chosen: list[Query] = []
    for item in wanted:
        group, _, query_id = item.rpartition(":")
        matches = [q for q in queries if q.query_id == query_id and (not group or q.group == group)]
        if not matches:
            known = ", ".join(f"{q.group}:{q.query_id}" for q in queries[:20])
            more = " ..." if len(queries) > 20 else ""
            raise UserError(f"no query {item!r}; available: {known}{more}")
        chosen += [q for q in matches if q not in chosen]
    return chosen


def _resolved(catalog: Catalog, query: Query) -> Query:
    # Two candidates whose reference names are one (cut to 64 characters) are shown
    # under distinct names, so the model can call either.
    named = catalog.named([catalog.get(api_id(api)) for api in query.apis])
    return replace(query, apis=tuple(named.values()))

"""Explaining a replay miss: the recorded argument sets closest to the call."""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import Any

from toolsim.cache.backend import ApiRef, CacheBackend
from toolsim.cache.keys import canonical_json

#: Upper bound on entries compared, so a miss on a huge API stays fast.
MAX_COMPARED = 5000


def differing_fields(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Names of arguments present in only one of the two, or with different values."""
    return sorted(k for k in a.keys() | b.keys() if k not in a or k not in b or a[k] != b[k])


def closest_recorded(
    backend: CacheBackend, api: ApiRef, arguments: dict[str, Any], limit: int = 3
) -> list[dict[str, Any]]:
    """Up to ``limit`` recorded argument sets of one API, closest first, with what differs.

    Closeness is the number of differing fields, then the textual similarity of
    the canonical JSON, so a typo in one value ranks above a different call.
    """
    if limit <= 0:
        return []
    wanted = canonical_json(arguments).decode()
    scored = []
    for key in backend.keys_for(api)[-MAX_COMPARED:]:
        entry = backend.get(key)
        if entry is None:
            continue
        differs = differing_fields(arguments, entry.arguments)
        similarity = SequenceMatcher(None, wanted, canonical_json(entry.arguments).decode()).ratio()
        scored.append((len(differs), -similarity, key, entry.arguments, differs))
    scored.sort(key=lambda item: item[:3])
    return [{"arguments": args, "differs": differs} for *_, args, differs in scored[:limit]]

"""How close a simulated reply is to a recorded one, four ways, each from 0 to 1.

* **outcome**: both succeeded or both failed (a reply fails when its ``error`` is
  non-empty); 1 or 0.
* **keys**: Jaccard overlap of the JSON key paths of the two responses (list positions
  collapsed: ``results[].title``); both without keys (text, scalars) count as 1.
* **types**: of the key paths both have, the share whose values have the same JSON type
  (integers and floats are both numbers); undefined without shared paths.
* **values**: Jaccard overlap of the word tokens (lowercased letters and digits) in
  all leaf values of the two responses; undefined when both have none.

A response that is JSON text is compared as the JSON it holds. Only successful
pairs are compared on keys, types and values (an error message's words say nothing
about the data); undefined measures are left out of averages.
"""

from __future__ import annotations

import re
from typing import Any

from toolsim.cache.entry import Reply
from toolsim.world.extract import decode

MEASURES = ("outcome", "keys", "types", "values")
_TOKEN = re.compile(r"[a-z0-9]+")
#: Nesting levels whose keys and values are compared; deeper ones are ignored.
MAX_COMPARED_DEPTH = 20


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def key_paths(value: Any) -> dict[str, set[str]]:
    """Every key path of a JSON value with the types found there."""
    paths: dict[str, set[str]] = {}
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_COMPARED_DEPTH:
            continue
        if isinstance(node, dict):
            for key, item in node.items():
                child = f"{path}.{key}" if path else str(key)
                paths.setdefault(child, set()).add(_kind(item))
                stack.append((item, child, depth + 1))
        elif isinstance(node, list):
            for item in node:
                stack.append((item, f"{path}[]", depth + 1))
    return paths


def tokens(value: Any) -> set[str]:
    """The word tokens of every leaf value (and of plain text)."""
    found: set[str] = set()
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_COMPARED_DEPTH:
            continue
        if isinstance(node, dict):
            stack.extend((item, depth + 1) for item in node.values())
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)
        elif node is not None:
            found.update(_TOKEN.findall(str(node).lower()))
    return found


def _jaccard(a: set[str], b: set[str]) -> float | None:
    if not a and not b:
        return None
    return len(a & b) / len(a | b)


def compare(recorded: Reply, simulated: Reply) -> dict[str, float | None]:
    """The four measures of one pair (see the module docstring)."""
    failed = (bool(recorded.error), bool(simulated.error))
    result: dict[str, float | None] = {
        "outcome": 1.0 if failed[0] == failed[1] else 0.0,
        "keys": None,
        "types": None,
        "values": None,
    }
    if any(failed):
        return result
    real, fake = decode(recorded.response), decode(simulated.response)
    real_paths, fake_paths = key_paths(real), key_paths(fake)
    keys = _jaccard(set(real_paths), set(fake_paths))
    result["keys"] = 1.0 if keys is None else keys
    shared = set(real_paths) & set(fake_paths)
    if shared:
        result["types"] = sum(bool(real_paths[p] & fake_paths[p]) for p in shared) / len(shared)
    result["values"] = _jaccard(tokens(real), tokens(fake))
    return result

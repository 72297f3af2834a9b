"""Entity extraction: which objects in a reply are things of the world, and what they say.

The rules, all on field names (compared lowercased, without ``_`` and ``-``):

* **Identifier fields.** ``id``, ``_id``, ``uuid``, ``guid``, ``uid``; any name ending in
  ``_id``/``-id`` or a camel-case ``Id``/``ID`` (``hotel_id``, ``movieId``, ``channelID``);
  and the natural keys ``symbol``, ``ticker``, ``slug``, ``code``, ``isbn``, ``sku``,
  ``iata``, ``icao`` (these only with a string value). An identifier value is a non-empty
  string of at most 200 characters or an integer (never a boolean or a float).
* **Entities.** Every object (at any depth, inside lists too) with an identifier field is
  an entity. Its *primary* identifier is the first present of: ``id``, then another exact
  ``id``-like name (``_id``, ``uuid``, ...), then a ``*_id`` name, then a natural key. Its
  other exact ``id``-like fields are *aliases*: the same entity is found by either (an
  object with both ``_id`` and ``id`` is looked up by both). Its other identifier fields
  (``album_id``, ``imdb_id``) are references to other entities (graph edges) *and* facts
  of this one (an external id such as a film's ``imdb_id`` must agree like any fact).
* **The subject of a call.** When a call's arguments name exactly one identifier
  (``hotel_id=...``, ``symbol=...``), the reply's top-level object (or the one object
  under ``data``/``result``/``item``/...) describes that entity when it has no identifier
  of its own, or only ``*_id`` fields named otherwise (references to other things).
* **Facts.** An entity's facts are its scalar fields (strings up to 500 characters,
  numbers, booleans) other than identifiers; lists and nested objects are not facts.
* **Context.** Items of a list directly under the reply's top-level object inherit that
  object's scalar fields they lack (a hotel found by a search for Lisbon is in Lisbon),
  except paging and status fields (``page``, ``total*``, ``count``, ``limit``, ``offset``,
  ``next``, ``status``, ``message``, ``query``, ...).
* **Names.** ``name``, ``title``, ``full_name`` and ``display_name`` are name fields: a call
  whose argument equals a known entity's name (case-insensitively) names that entity.
* **Type.** A label for people: from the primary identifier (``hotel_id`` -> hotel),
  else the list or key holding the object (``hotels`` -> hotel), else the API's name
  without verbs such as get/search/details (``getRecipeDetails`` -> recipe).
* **Scope.** Identifiers are scoped by tool: ``42`` of one tool is not ``42`` of another.

Objects without an identifier (and replies that are plain text) give no entity.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from toolsim.simulator.template_filler import norm
from toolsim.simulator.texts import parse_data

_EXACT_IDS = frozenset({"id", "uuid", "guid", "uid"})
_NATURAL_KEYS = ("symbol", "ticker", "slug", "code", "isbn", "sku", "iata", "icao")
_SUFFIX_ID = re.compile(r"[_\-](id|ID|Id)$")
_CAMEL_ID = re.compile(r"[a-z0-9](Id|ID)$")
_NAME_FIELDS = frozenset({"name", "title", "fullname", "displayname"})
_WRAPPERS = frozenset({"data", "result", "item", "record", "detail", "details", "response"})
_GENERIC = frozenset(
    {"results", "result", "items", "item", "data", "list", "records", "entries", "response"}
)
_API_NOISE = re.compile(
    r"\b(get|fetch|search|find|list|lookup|query|details?|info|information|profile|quote|by|"
    r"all|random|the|for|of|api|v\d+)\b"
)
_IRREGULAR = {"movies": "movie", "cookies": "cookie", "series": "series", "people": "person"}
_META = re.compile(
    r"^(page|pages|pagesize|perpage|total.*|count|limit|offset|next|prev|previous|cursor|"
    r"status|statuscode|code|message|msg|error|errors|success|query|q|search|keyword|"
    r"sort.*|order.*|took|time|timestamp|updatedat|requestid)$"
)
_GLUED_VERB = re.compile(r"^(get|search|find|list|fetch|lookup|query)(?=[a-z]{3})")
_GLUED_NOUN = re.compile(r"(?<=[a-z]{3})(details?|info|profile|quote|search|list)$")
_INT64 = (-(2**63), 2**63 - 1)
MAX_ID_CHARS = 200
MAX_FACT_CHARS = 500
#: Nesting levels searched for entities; deeper objects are not read.
MAX_WALK_DEPTH = 12


def is_id_field(name: str) -> bool:
    """Whether a field or parameter name is an identifier (see the module docstring)."""
    return _id_rank(name) is not None


def is_name_field(name: str) -> bool:
    """Whether a field names its object (``name``, ``title``, ...)."""
    return norm(name) in _NAME_FIELDS


def id_value(value: Any) -> str | None:
    """The identifier ``value`` as a string key, or None when it cannot be one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        if 0 < len(text) <= MAX_ID_CHARS:
            return text
        return None
    return None


def _id_rank(name: str) -> int | None:
    """0: ``id``; 1: another exact id name (``_id``, ``uuid``); 2: ``*_id``; 3: natural key."""
    key = norm(name)
    if name.lower() == "id":
        return 0
    if key in _EXACT_IDS or name == "_id":
        return 1
    if _SUFFIX_ID.search(name) or _CAMEL_ID.search(name):
        return 2
    if key in _NATURAL_KEYS:
        return 3
    return None


#: Ranks of the exact identifier names, whose other fields in one object are aliases.
_EXACT_RANKS = (0, 1)
_NATURAL_RANK = 3


def _identifier(name: str, value: Any) -> tuple[int, str] | None:
    """``(rank, id)`` when a field holds an identifier, or None (a natural key needs a string)."""
    rank = _id_rank(name)
    if rank is None or (rank == _NATURAL_RANK and not isinstance(value, str)):
        return None
    key = id_value(value)
    return None if key is None else (rank, key)


def primary_id(obj: dict[str, Any]) -> tuple[str, str] | None:
    """``(field, id)`` of an object's primary identifier, or None."""
    best: tuple[int, str, str] | None = None
    for name, value in obj.items():
        found = _identifier(str(name), value)
        if found is not None and (best is None or found[0] < best[0]):
            best = (found[0], str(name), found[1])
    return None if best is None else (best[1], best[2])


def is_fact(value: Any) -> bool:
    """Whether a value can be a fact (a short scalar; integers within 64 bits)."""
    if isinstance(value, str):
        return 0 < len(value) <= MAX_FACT_CHARS
    if isinstance(value, int) and not isinstance(value, bool):
        return _INT64[0] <= value <= _INT64[1]
    return isinstance(value, bool | float)


def singular(word: str) -> str:
    """A plural English noun made singular, roughly (``hotels`` -> ``hotel``)."""
    word = word.lower()
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def type_from_api(api_name: str) -> str:
    """An entity type from an API's name: ``getRecipeDetails`` -> ``recipe``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", api_name)
    words = _API_NOISE.sub(" ", re.sub(r"[^A-Za-z0-9]+", " ", spaced).lower()).split()
    if not words:
        return ""
    # Standardized names run words together: searchrecipes, getrecipedetails.
    word = _GLUED_VERB.sub("", words[0]) or words[0]
    word = _GLUED_NOUN.sub("", word) or word
    return singular(word)


def type_of(id_field: str, holder: str, api_name: str) -> str:
    """The type label of an entity (see the module docstring)."""
    if _id_rank(id_field) == 2:
        stem = re.sub(r"([_\-]?id|Id|ID)$", "", id_field)
        if stem:
            return singular(re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", stem).lower())
    if holder and norm(holder) not in _GENERIC:
        return singular(re.sub(r"[^a-z0-9]+", "_", holder.lower()).strip("_"))
    return type_from_api(api_name)


@dataclass(slots=True)
class Entity:
    """One thing a reply describes."""

    type: str
    id_field: str
    id: str
    #: The typed identifier value as written in the reply.
    raw_id: Any
    #: Scalar fields other than identifiers, by their field name as written.
    facts: dict[str, Any] = field(default_factory=dict)
    #: Identifiers of other entities this one mentions: (field, id).
    refs: list[tuple[str, str]] = field(default_factory=list)
    #: Other exact identifiers of this same entity (``_id`` beside ``id``): (field, id).
    aliases: list[tuple[str, str]] = field(default_factory=list)
    #: Where in the reply: ``response.hotels[0]``.
    path: str = "response"


def names_another(field: str, parameter: str) -> bool:
    """Whether an identifier field of a call's subject refers to another entity: a
    ``*_id`` field not named like the parameter that named the subject (an album asked
    for by ``browse_id`` may carry an ``audioPlaylistId``; it is still the album)."""
    return _id_rank(field) == 2 and norm(field) != norm(parameter)


def entity_of(
    obj: dict[str, Any], holder: str, api_name: str, path: str, named: tuple[str, Any] | None
) -> Entity | None:
    """The entity an object is, if any; ``named`` is the (parameter, value) of the call's
    subject when this object is the reply's top-level object."""
    found = primary_id(obj)
    if found is not None and named is not None and names_another(found[0], named[0]):
        found = None
    if found is None and named is not None and (key := id_value(named[1])) is not None:
        found = (named[0], key)
        raw: Any = named[1]
    elif found is None:
        return None
    else:
        raw = obj[found[0]]
    if isinstance(raw, int) and not is_fact(raw):
        raw = str(raw)  # beyond 64 bits: kept exactly, as text
    id_field, key = found
    entity = Entity(type_of(id_field, holder, api_name), id_field, key, raw, path=path)
    primary_rank = _id_rank(id_field)
    for name, value in obj.items():
        name = str(name)
        if name == id_field:
            continue
        ref = _identifier(name, value)
        if ref is not None and ref[0] in _EXACT_RANKS and primary_rank in _EXACT_RANKS:
            if ref[1] != key:
                entity.aliases.append((name, ref[1]))
            continue
        if ref is not None:
            entity.refs.append((name, ref[1]))
        if is_fact(value):
            entity.facts[name] = value
    return entity


def subject_path(response: Any) -> tuple[dict[str, Any], str] | None:
    """The object a reply is about: the top-level object, or the one under a wrapper key."""
    if not isinstance(response, dict):
        return None
    if primary_id(response) is None:
        inner = [
            (key, value)
            for key, value in response.items()
            if isinstance(value, dict) and norm(str(key)) in _WRAPPERS
        ]
        if len(inner) == 1 and not any(is_fact(v) for v in response.values()):
            return inner[0][1], f"response.{inner[0][0]}"
    return response, "response"


def named_ids(arguments: dict[str, Any]) -> list[tuple[str, Any]]:
    """The (parameter, value) pairs of a call's arguments that are identifiers."""
    return [(name, value) for name, value in arguments.items() if _identifier(name, value)]


def decode(response: Any) -> Any:
    """A reply's response as data: JSON or a Python literal in text (even cut short) is
    parsed (:func:`~toolsim.simulator.texts.parse_data`), other text kept."""
    if isinstance(response, str):
        parsed = parse_data(response)
        if isinstance(parsed, dict | list):
            return parsed
    return response


def walk(value: Any, path: str = "response", holder: str = "") -> Iterator[tuple[Any, str, str]]:
    """Every object in a value: ``(object, path, holder key)``, depth first, bounded."""
    stack: list[tuple[Any, str, str, int]] = [(value, path, holder, 0)]
    while stack:
        node, where, key, depth = stack.pop()
        if depth > MAX_WALK_DEPTH:
            continue
        if isinstance(node, dict):
            yield node, where, key
            for name, child in reversed(list(node.items())):
                if isinstance(child, dict | list):
                    stack.append((child, f"{where}.{name}", str(name), depth + 1))
        elif isinstance(node, list):
            for index in range(len(node) - 1, -1, -1):
                if isinstance(node[index], dict | list):
                    stack.append((node[index], f"{where}[{index}]", key, depth + 1))


def extract(
    response: Any, arguments: dict[str, Any] | None = None, api_name: str = ""
) -> list[Entity]:
    """Every entity a reply's response describes (see the module docstring)."""
    data = decode(response)
    ids = named_ids(arguments or {})
    named = ids[0] if len(ids) == 1 else None
    subject = subject_path(data)
    context = _context(data)
    found = []
    for obj, path, holder in walk(data):
        is_subject = subject is not None and obj is subject[0]
        entity = entity_of(obj, holder, api_name, path, named if is_subject else None)
        if entity is not None:
            if context and path.count(".") == 1 and path.endswith("]"):
                for name, value in context.items():
                    if name not in obj:
                        entity.facts.setdefault(name, value)
            found.append(entity)
    return found


def _context(data: Any) -> dict[str, Any]:
    """The top-level object's scalar fields that its list items inherit."""
    if not isinstance(data, dict):
        return {}
    return {
        str(name): value
        for name, value in data.items()
        if is_fact(value) and _id_rank(str(name)) is None and not _META.match(norm(str(name)))
    }


def dumps(value: Any) -> str:
    """Compact JSON of a value (for messages)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()

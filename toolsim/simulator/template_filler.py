"""Filling a response template with plausible values, deterministically.

The ``schema`` simulator's engine (:mod:`toolsim.simulator.schema`), also used to
replace the type names an LLM copied from a template. StableToolBench templates are
nested dicts whose leaves name a type (``"str"``, ``"int"``, ``"NoneType"``, ``"list of str with
length 8"``...) and whose lists hold one item template carrying ``_list_length``.
Leaves are filled from the call's arguments when a field is named like one,
otherwise from small per-field-name tables, all drawn from a ``random.Random``
seeded by the cache key, so the same call always gets the same bytes.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from toolsim.simulator.texts import NOT_DATA, parse_truncated_json

#: Template levels filled; anything nested deeper becomes ``"..."``.
MAX_FILL_DEPTH = 8
MAX_LIST = 10
MAX_NODES = 400  # keeps every reply to a few kB even for huge templates
MAX_TEXT = 500

_WORDS = (
    "amber",
    "river",
    "quiet",
    "north",
    "maple",
    "signal",
    "harbor",
    "violet",
    "copper",
    "meadow",
    "swift",
    "lunar",
    "cedar",
    "orbit",
    "velvet",
    "summit",
    "coral",
    "ember",
)
_COUNTRIES = (
    ("United States", "US"),
    ("Portugal", "PT"),
    ("Japan", "JP"),
    ("Brazil", "BR"),
    ("Germany", "DE"),
    ("India", "IN"),
    ("Canada", "CA"),
    ("Kenya", "KE"),
)
_CITIES = ("Lisbon", "Tokyo", "Toronto", "Nairobi", "Berlin", "Austin", "Recife", "Pune")
_CURRENCIES = ("USD", "EUR", "JPY", "BRL", "GBP", "INR")
_STATUSES = ("ok", "active", "success", "available")
_LIST_OF = re.compile(r"^list of (\w+) with length (\d+)$", re.IGNORECASE)
_ID = re.compile(r"^(id|uid|guid|uuid)$|[_-]id$|[a-z0-9]I[dD]$")
_TYPES = {
    "str": "str",
    "string": "str",
    "int": "int",
    "integer": "int",
    "float": "float",
    "number": "float",
    "double": "float",
    "bool": "bool",
    "boolean": "bool",
    "nonetype": "none",
    "null": "none",
    "none": "none",
    "list": "list",
    "array": "list",
    "empty list": "list",
    "dict": "dict",
    "object": "dict",
}
#: String values that are a type's name, not data: a model that writes them copied the
#: response template instead of answering (``{"title": "str"}``).
TYPE_NAMES = frozenset(
    {"str", "string", "int", "integer", "float", "double", "bool", "boolean", "nonetype"}
)
# A type's name with a suffix a small model adds when copying it: "str.2", "str_Lisbon", "int-1".
_DECORATED_TYPE = re.compile("^(" + "|".join(sorted(TYPE_NAMES)) + r")[._\-#:]\S*$", re.IGNORECASE)
_NO = object()


def is_type_name(text: str) -> bool:
    """Whether a string value is a type's name (``str``, ``list of int with length 3``), also
    with a suffix glued on (``str.2``, ``str_Lisbon``)."""
    text = text.strip()
    return (
        text.lower() in TYPE_NAMES
        or bool(_LIST_OF.match(text))
        or bool(_DECORATED_TYPE.match(text))
    )


def norm(name: str) -> str:
    """A field name compared across spellings: lowercased, without ``_``, ``-`` and spaces."""
    return re.sub(r"[\s_\-]", "", name).lower()


def _words(rnd: random.Random, n: int) -> list[str]:
    return [rnd.choice(_WORDS) for _ in range(n)]


def _day(rnd: random.Random) -> date:
    return date(2020, 1, 1) + timedelta(days=rnd.randrange(6 * 365))


def _sentence(rnd: random.Random) -> str:
    return " ".join(_words(rnd, rnd.randint(5, 9))).capitalize() + "."


StrRule = tuple[str, Callable[[random.Random], str]]
# Matched in order against the field name, lowercased without ``_``/``-``.
_STR_RULES: tuple[StrRule, ...] = (
    (r"^errors?$", lambda r: ""),
    (r"email", lambda r: f"{r.choice(_WORDS)}.{r.choice(_WORDS)}@example.com"),
    (
        r"url|uri$|link|href|website|image|img|thumbnail|avatar|icon|logo|photo",
        lambda r: "https://example.com/" + "-".join(_words(r, 2)) + f"-{r.randrange(1000)}",
    ),
    (r"datetime|timestamp", lambda r: f"{_day(r).isoformat()}T{r.randrange(24):02d}:00:00Z"),
    (r"date|created|updated|published", lambda r: _day(r).isoformat()),
    (r"time$", lambda r: f"{r.randrange(24):02d}:{r.randrange(60):02d}:00"),
    (r"username|login|handle", lambda r: f"{r.choice(_WORDS)}_{r.randrange(100)}"),
    (r"name$|title|author|artist|company|brand", lambda r: " ".join(_words(r, 2)).title()),
    (r"description|summary|text|bio|message|msg|content|comment|synopsis|quote|review", _sentence),
    (r"slug", lambda r: "-".join(_words(r, 2))),
    (r"countrycode|^cc$", lambda r: r.choice(_COUNTRIES)[1]),
    (r"country", lambda r: r.choice(_COUNTRIES)[0]),
    (r"city|town", lambda r: r.choice(_CITIES)),
    (r"currency", lambda r: r.choice(_CURRENCIES)),
    (r"^(lang|language|locale)$", lambda r: "en"),
    (r"phone", lambda r: f"+1-555-{r.randrange(10000):04d}"),
    (r"address|street", lambda r: f"{r.randint(1, 999)} {r.choice(_WORDS).title()} Street"),
    (r"status", lambda r: r.choice(_STATUSES)),
    (r"price|amount|cost|fee", lambda r: f"{r.uniform(1, 1000):.2f}"),
    (r"rating|stars", lambda r: f"{r.uniform(1, 5):.1f}"),
    (r"^lat(itude)?$|^(lon|lng|longitude)$", lambda r: f"{r.uniform(-90, 90):.6f}"),
    (r"year", lambda r: str(r.randint(1900, 2025))),
)


def _seeded_str(field: str, rnd: random.Random) -> str:
    if _ID.search(field):
        return f"{rnd.getrandbits(48):012x}"
    key = norm(field)
    for pattern, make in _STR_RULES:
        if re.search(pattern, key):
            return make(rnd)
    return " ".join(_words(rnd, rnd.randint(1, 2)))


#: Plausible ranges by field name (lowercased, without ``_``/``-``), matched in order:
#: (pattern, low, high, decimals); ``decimals`` is None for integers-only fields.
NumberRule = tuple[str, float, float, int]
_NUMBER_RULES: tuple[NumberRule, ...] = (
    (r"year", 1900, 2025, 0),
    (r"servings|serves|portions|guests|people|persons", 1, 12, 0),
    (r"minutes|mins$|duration|runtime|cooktime|preptime|readyin", 5, 240, 0),
    (r"count$", 0, 500, 0),
    (r"stars|rating|score", 1, 5, 1),
    (r"percent|pct|chance|probability|humidity|precipitation", 0, 100, 1),
    (r"^age$", 18, 90, 0),
    (r"employees|staff|headcount", 10, 200_000, 0),
    (r"population", 1_000, 10_000_000, 0),
    (r"volume", 1_000, 50_000_000, 0),
    (r"calories|kcal", 50, 1_200, 0),
    (r"marketcap|revenue", 100_000_000, 3_000_000_000_000, 0),
    (r"temp|feelslike", -10, 40, 1),
    (r"windspeed|speed", 0, 30, 1),
    (r"distance|km$|miles$", 0.1, 50, 2),
    (r"change", -20, 20, 2),
    (r"^(exchange)?rate$|fxrate", 0.05, 5, 4),
    (r"price|amount|cost|fee|total|balance|salary|result", 1, 1_000, 2),
    (r"count|num|size|rank|quantity|length|limit|page|step|position|index", 1, 100, 0),
    (r"aqi|index", 0, 300, 0),
)


def _ranged(field: str, rnd: random.Random, integer: bool) -> float | None:
    """A value from the first plausible range the field name matches, or None."""
    key = norm(field)
    for pattern, low, high, decimals in _NUMBER_RULES:
        if re.search(pattern, key):
            if integer or decimals == 0:
                return rnd.randint(int(low), int(high))
            return round(rnd.uniform(low, high), decimals)
    return None


def _seeded_int(field: str, rnd: random.Random) -> int:
    key = norm(field)
    if key in ("status", "statuscode", "code", "httpcode"):
        return 200
    if _ID.search(field):
        return rnd.randint(1, 999_999)
    if re.search(r"timestamp|unix|epoch|created|updated", key):
        return rnd.randint(1_577_836_800, 1_767_225_599)
    ranged = _ranged(field, rnd, integer=True)
    return int(ranged) if ranged is not None else rnd.randint(0, 1000)


def _seeded_float(field: str, rnd: random.Random) -> float:
    key = norm(field)
    if re.search(r"^lat(itude)?$", key):
        return round(rnd.uniform(-90, 90), 6)
    if re.search(r"^(lon|lng|long|longitude)$", key):
        return round(rnd.uniform(-180, 180), 6)
    ranged = _ranged(field, rnd, integer=False)
    return float(ranged) if ranged is not None else round(rnd.uniform(0, 100), 2)


def _coerce(value: Any, kind: str) -> Any:
    """Convert an argument to a leaf's type, or return ``_NO`` when it does not fit."""
    if kind == "str":
        return value if isinstance(value, str) else json.dumps(value)
    if isinstance(value, bool):
        return value if kind == "bool" else _NO
    try:
        if kind == "int":
            return int(value) if isinstance(value, int | float) else int(str(value).strip())
        if kind == "float":
            return float(value)
    except (TypeError, ValueError):
        return _NO
    if kind == "bool" and str(value).lower() in ("true", "1", "yes", "false", "0", "no"):
        return str(value).lower() in ("true", "1", "yes")
    return _NO


class _Builder:
    """Walks one template, drawing from one seeded generator under one node budget."""

    def __init__(self, rnd: random.Random, arguments: dict[str, Any]) -> None:
        self.rnd = rnd
        self.arguments = {norm(k): v for k, v in arguments.items()}
        self.budget = MAX_NODES
        #: How many lists the leaf being filled is inside: an identifier argument is the
        #: id of the thing asked for, never of the items listed inside it (an album's id
        #: is not each of its tracks' ids).
        self.lists = 0

    def build(self, template: Any, field: str = "", depth: int = 0) -> Any:
        if depth > MAX_FILL_DEPTH:
            return "..."
        self.budget -= 1
        if isinstance(template, dict):
            out: dict[str, Any] = {}
            for key, sub in template.items():
                if key == "_list_length":
                    continue
                if self.budget <= 0:
                    break
                out[str(key)] = self.build(sub, str(key), depth + 1)
            return out
        if isinstance(template, list):
            return self._list(template, field, depth)
        if isinstance(template, str):
            return self._leaf(template, field, depth)
        return template  # an example value (number, bool, null) stands for itself

    def _list(self, template: list[Any], field: str, depth: int) -> Any:
        self.lists += 1
        try:
            return self._items(template, field, depth)
        finally:
            self.lists -= 1

    def _items(self, template: list[Any], field: str, depth: int) -> Any:
        if len(template) != 1:
            return [self.build(item, field, depth + 1) for item in template[:MAX_LIST]]
        item = template[0]
        if isinstance(item, str) and _LIST_OF.match(item.strip()):
            return self.build(item, field, depth)
        length = item.get("_list_length") if isinstance(item, dict) else None
        count = length if isinstance(length, int) else self.rnd.randint(1, 3)
        out = []
        for _ in range(max(0, min(count, MAX_LIST))):
            if self.budget <= 0:
                break
            out.append(self.build(item, field, depth + 1))
        return out

    def _leaf(self, template: str, field: str, depth: int) -> Any:
        text = template.strip()
        list_of = _LIST_OF.match(text)
        if list_of:
            count = min(int(list_of.group(2)), MAX_LIST)
            return [self._leaf(list_of.group(1), field, depth) for _ in range(count)]
        kind = _TYPES.get(text.lower())
        if kind is None and text.startswith(("{", "[")):
            parsed = parse_truncated_json(text)
            if parsed is not NOT_DATA:
                return self.build(parsed, field, depth + 1)
        kind = kind or "str"
        if kind in ("none", "list", "dict"):
            return {"none": None, "list": [], "dict": {}}[kind]
        arg = self.arguments.get(norm(field), _NO)
        if self.lists and _ID.search(field):
            arg = _NO
        if arg is not _NO and (value := _coerce(arg, kind)) is not _NO:
            return value
        if kind == "int":
            return _seeded_int(field, self.rnd)
        if kind == "float":
            return _seeded_float(field, self.rnd)
        if kind == "bool":
            positive = re.search(r"success|valid|ok$|active|enabled|available", norm(field))
            return bool(positive) or self.rnd.random() < 0.5
        return _seeded_str(field, self.rnd)


def fill_type_names(value: Any, seed: int) -> Any:
    """``value`` with every string that is a type's name (``"str"``) replaced by a plausible
    value for its field, drawn like the schema simulator's (seeded: the same input gives
    the same output)."""
    builder = _Builder(random.Random(seed), {})

    def fill(node: Any, field: str, depth: int) -> Any:
        if depth > MAX_FILL_DEPTH:
            return node
        if isinstance(node, dict):
            return {key: fill(item, str(key), depth + 1) for key, item in node.items()}
        if isinstance(node, list):
            return [fill(item, field, depth + 1) for item in node]
        if isinstance(node, str) and is_type_name(node):
            return builder._leaf(node, field, depth)
        return node

    return fill(value, "", 0)


def _seed(key: str) -> int:
    try:
        return int(key[:16], 16)
    except ValueError:
        return int.from_bytes(key.encode()[:16].ljust(8, b"\0"), "big")


def synthesize(template: Any, arguments: dict[str, Any], key: str) -> Any:
    """Synthesise a reply value for ``template``, seeded by ``key``.

    A string template that is neither a type name nor JSON is free text and is
    returned (capped) as is. (An API without a usable template gets one from
    :mod:`toolsim.simulator.cold_start` first: see :mod:`toolsim.simulator.schema`.)
    """
    builder = _Builder(random.Random(_seed(key)), arguments)
    if isinstance(template, str):
        text = template.strip()
        if text.lower() not in _TYPES and not _LIST_OF.match(text):
            parsed = parse_truncated_json(text)
            return text[:MAX_TEXT] if parsed is NOT_DATA else builder.build(parsed)
    return builder.build(template)

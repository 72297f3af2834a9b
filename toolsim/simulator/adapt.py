"""Adapting a recorded reply to another call of the same API.

A recorded reply echoes some of its call's arguments: a weather reply names the
city asked for, a details reply carries the id asked for, a search reply repeats
the query in its titles and links. Adapting it to a new call replaces each echo
of an old argument by the new call's value for the same parameter:

* a leaf equal to the old value (text compared without case and surrounding
  spaces, numbers as numbers, ``"550"`` equal to ``550``) takes the new value, in
  the leaf's own type; a dict key equal to it is renamed;
* inside longer text (descriptions, URLs, prose replies) an old text value of
  three characters or more is replaced where it stands as a whole word, keeping
  its capitalisation (``Lisbon`` -> ``Oslo``, ``LISBON`` -> ``OSLO``);
* a value that could be an accident (a short number such as ``1`` or ``10``, a
  boolean) is replaced only in a field named like its parameter (``limit``);
* a field outside any list named like a parameter the old call left out takes the
  new call's value (``"units": "metric"`` follows ``units=imperial``).

List shapes are kept: the same items, in the same order. An item of a list whose
data changed (a hotel "in Oslo" now) is another thing than the recorded one, so its
own identifier is replaced by a new one of the same shape (digits by digits,
letters by letters), drawn from the call's key, everywhere it occurs in the reply;
the world then treats it as a new entity. Identifiers that were echoed arguments
keep the new call's value. The reply keeps its form: data stays data, JSON text
stays JSON text, a Python literal (as StableToolBench's cache writes them) stays one.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from toolsim.simulator.template_filler import norm
from toolsim.simulator.texts import NOT_DATA, parse_data

#: Old text values shorter than this are replaced only as whole leaves, never inside text.
MIN_INLINE_CHARS = 3
#: A number is distinctive (replaced wherever it occurs) from this magnitude on.
DISTINCTIVE_NUMBER = 100
#: A re-minted numeric identifier is replaced elsewhere in the reply from this magnitude on.
MIN_REMINTED_NUMBER = 10_000
_NUMERIC = re.compile(r"^[+-]?\d+(\.\d+)?$")
_SEPARATOR = re.compile(r"\s*[,;|]\s*")
#: The new value of an old part the new call does not give (see :func:`substitutions`).
DROPPED: Any = object()
_EXACT_ID = frozenset({"id", "_id", "uuid", "uid", "guid"})


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_number(value: Any) -> float | None:
    if _is_number(value):
        return float(value)
    if isinstance(value, str) and _NUMERIC.match(value.strip()):
        return float(value.strip())
    return None


def _distinctive(value: Any) -> bool:
    """Whether an argument value is unlikely to appear in a reply by accident."""
    if isinstance(value, bool) or value is None:
        return False
    number = _as_number(value)
    if number is not None:
        return abs(number) >= DISTINCTIVE_NUMBER or not number.is_integer()
    return isinstance(value, str) and len(value.strip()) >= 2


def _same(leaf: Any, old: Any) -> bool:
    if isinstance(leaf, bool) or isinstance(old, bool):
        return leaf is old
    if isinstance(leaf, str) and isinstance(old, str):
        return leaf.strip().casefold() == old.strip().casefold()
    a, b = _as_number(leaf), _as_number(old)
    return a is not None and b is not None and a == b


def _typed(new: Any, like: Any) -> Any:
    """``new`` in the JSON type of ``like`` where it converts cleanly, else as it is."""
    if isinstance(like, bool) or isinstance(new, bool):
        return new
    if isinstance(like, str):
        return new if isinstance(new, str) else json.dumps(new)
    number = _as_number(new)
    if isinstance(like, int) and number is not None and number.is_integer():
        return int(number)
    if isinstance(like, float) and number is not None:
        return number
    return new


def _cased(new: str, found: str) -> str:
    if found.isupper() and len(found) > 1:
        return new.upper()
    if found[:1].isupper() and new[:1].islower():
        return new[:1].upper() + new[1:]
    return new


@dataclass(frozen=True, slots=True)
class Substitution:
    """One echoed value: the old call's value of a parameter, and the new call's."""

    parameter: str
    old: Any
    new: Any
    #: Replaced anywhere (True) or only in fields named like the parameter.
    anywhere: bool
    pattern: re.Pattern[str] | None = None

    @classmethod
    def of(cls, parameter: str, old: Any, new: Any) -> Substitution:
        """The substitution of one parameter's value (text values also match inside text)."""
        pattern = None
        text = str(old).strip()
        inline = (isinstance(old, str) and len(text) >= MIN_INLINE_CHARS) or (
            _is_number(old) and _distinctive(old)
        )
        if inline and text:
            pattern = re.compile(rf"(?<![\w-]){re.escape(text)}(?![\w-])", re.IGNORECASE)
        return cls(parameter, old, new, _distinctive(old), pattern)

    def fits(self, field_name: str) -> bool:
        """Whether this substitution may replace a leaf of ``field_name``."""
        return self.anywhere or norm(field_name) == norm(self.parameter)

    def within(self, text: str) -> str:
        """``text`` with whole-word occurrences of the old value replaced."""
        if self.pattern is None or self.new is DROPPED:
            return text
        new = str(self.new)
        return self.pattern.sub(lambda m: _cased(new, m.group(0)), text)


def _parts(value: Any) -> list[str]:
    if not isinstance(value, str):
        return []
    return [part for part in _SEPARATOR.split(value.strip()) if part]


def substitutions(old: dict[str, Any], new: dict[str, Any]) -> list[Substitution]:
    """What changes from the recorded call's arguments to this call's (scalars only).

    A list-like value (``Lisbon,PT``, ``40.7,-74.0``) also maps part by part, and an
    old part the new value lacks (``PT`` when the call says just ``Oslo``) maps to
    :data:`DROPPED`: a field that only echoed it is left out rather than kept wrong.
    Longer old values first, so ``New York City`` is replaced before ``York``.
    """
    found = []
    for name, value in old.items():
        if name not in new or value is None or not (_scalar(value) and _scalar(new[name])):
            continue
        if _same(value, new[name]):
            continue
        found.append(Substitution.of(name, value, new[name]))
        old_parts, new_parts = _parts(value), _parts(new[name])
        if len(old_parts) > 1:
            for index, part in enumerate(old_parts):
                target = new_parts[index] if index < len(new_parts) else DROPPED
                if target is DROPPED or not _same(part, target):
                    found.append(Substitution.of(name, part, target))
    found.sort(key=lambda s: -len(str(s.old)))
    return found


def _rewritten(text: str, subs: list[Substitution]) -> str:
    """``text`` with every substitution's whole-word occurrences replaced, longest first."""
    for sub in subs:
        text = sub.within(text)
    return text


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def minted(old: Any, seed: str) -> Any:
    """An identifier of the same shape as ``old`` (digits for digits, letters for letters).

    A string with three digits or more keeps its letters (``tt0113277`` ->
    ``tt5820764``); integers keep their number of digits.
    """
    digest = hashlib.sha256(f"{seed}\x1f{old}".encode()).digest()
    stream = iter(digest * 8)
    if isinstance(old, int) and not isinstance(old, bool):
        digits = str(abs(old))
        value = int(str(1 + next(stream) % 9) + "".join(str(next(stream) % 10) for _ in digits[1:]))
        return -value if old < 0 else value
    text = str(old)
    keep_letters = sum(ch.isdigit() for ch in text) >= 3
    out = []
    for ch in text:
        if ch.isdigit():
            out.append(str(next(stream) % 10))
        elif ch.isalpha() and ch.isascii() and not keep_letters:
            letter = "abcdefghijklmnopqrstuvwxyz"[next(stream) % 26]
            out.append(letter.upper() if ch.isupper() else letter)
        else:
            out.append(ch)
    return "".join(out)


def _is_own_id(name: str) -> bool:
    return name.lower() in _EXACT_ID


@dataclass
class _Walk:
    """One adaptation pass over a reply."""

    subs: list[Substitution]
    named: dict[str, Any]
    seed: str
    changes: int = 0
    minted: dict[str, Any] = field(default_factory=dict)
    echoed: set[str] = field(default_factory=set)

    def value(self, node: Any, name: str, in_list: bool) -> Any:
        if isinstance(node, dict):
            return self.obj(node, in_list)
        if isinstance(node, list):
            # A list keeps its shape: an item that only echoed a dropped part stays.
            items = [(item, self.value(item, name, True)) for item in node]
            return [old if new is DROPPED else new for old, new in items]
        return self.leaf(node, name, in_list)

    def obj(self, node: dict[str, Any], in_list: bool) -> dict[str, Any]:
        before = self.changes
        out: dict[str, Any] = {}
        for key, item in node.items():
            value = self.value(item, str(key), in_list)
            if value is DROPPED:
                self.changes += 1
                continue
            out[self.key(str(key))] = value
        if in_list and self.changes > before:
            self.mint(node, out)
        return out

    def key(self, key: str) -> str:
        for sub in self.subs:
            if sub.new is DROPPED:
                continue
            if isinstance(sub.old, str) and sub.anywhere and _same(key, sub.old):
                self.changes += 1
                return str(sub.new)
        return key

    def leaf(self, leaf: Any, name: str, in_list: bool) -> Any:
        if not in_list and (named := self.named.get(norm(name))) is not None:
            if _scalar(leaf) and not _same(leaf, named[1]):
                self.changes += 1
                self.echoed.add(str(named[1]))
                return _typed(named[1], leaf)
        for sub in self.subs:
            if sub.fits(name) and _same(leaf, sub.old):
                if sub.new is DROPPED:
                    return DROPPED
                self.changes += 1
                self.echoed.add(str(sub.new))
                return _typed(sub.new, leaf)
        if isinstance(leaf, str):
            text = _rewritten(leaf, self.subs)
            self.changes += text != leaf
            return text
        return leaf

    def mint(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        """A changed list item is another thing: new ids for its own identifiers."""
        for name, old in before.items():
            new = after.get(name)
            if not _is_own_id(name) or not _scalar(old) or old is None:
                continue
            if str(new) in self.echoed or not _same(new, old):
                continue  # an echoed argument: the call said who this is
            fresh = self.minted.setdefault(str(old), minted(old, self.seed))
            after[name] = fresh


def _rendered(original: str, data: Any) -> str:
    """``data`` written the way ``original`` was: JSON text, or a Python literal."""
    text = original.strip()
    try:
        json.loads(text)
    except ValueError:
        return repr(data)
    return json.dumps(data, ensure_ascii=False)


def adapt_response(
    response: Any, recorded: dict[str, Any], arguments: dict[str, Any], seed: str
) -> tuple[Any, int]:
    """``response`` (recorded for ``recorded``) adapted to ``arguments``; and how many changes.

    ``seed`` (the new call's cache key) draws the new identifiers, so the same call
    always gets the same reply. With nothing to change the response comes back as is.
    """
    subs = substitutions(recorded, arguments)
    # Parameters the recorded call left out: a field named like one takes its value.
    named = {
        norm(name): (name, value)
        for name, value in arguments.items()
        if _scalar(value) and value is not None and recorded.get(name) is None
    }
    walk = _Walk(subs, named, seed)
    data = parse_data(response) if isinstance(response, str) else response
    if isinstance(response, str) and data is NOT_DATA:
        text = _rewritten(response, subs)  # prose: only its words can follow the call
        return text, int(text != response)
    adapted = walk.value(data, "", False)
    if walk.minted:
        adapted = _replace_minted(adapted, walk.minted)
    if not walk.changes:
        return response, 0
    if isinstance(response, str):
        return _rendered(response, adapted), walk.changes
    return adapted, walk.changes


def _replace_minted(data: Any, minted_ids: dict[str, Any]) -> Any:
    """Every other mention of a re-minted identifier (in links, in references) follows it."""
    # Only identifiers no other value is likely to equal by accident (a year, a count).
    subs = [
        Substitution.of("", old, new)
        for old, new in minted_ids.items()
        if (_as_number(old) or 0) >= MIN_REMINTED_NUMBER
        or (_as_number(old) is None and len(old) > MIN_INLINE_CHARS)
    ]

    def swap(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: swap(value) for key, value in node.items()}
        if isinstance(node, list):
            return [swap(item) for item in node]
        for sub in subs:
            if _same(node, sub.old):
                return _typed(sub.new, node)
        return _rewritten(node, subs) if isinstance(node, str) else node

    return swap(data)

"""The world's memory on the cache backend: entity records, fed by stored replies.

Everything lives in one records table (``world``) of the cache backend (see
:class:`~toolsim.cache.backend.SupportsRecords`), so every worker and replica on
one store sees one world. Two kinds of record:

* ``e\\x1f<category>\\x1f<tool>\\x1f<id>``, an entity: ``type``, ``id_field``, ``id``
  (an entity with several exact ids, ``id`` and ``_id``, is written under each);
  per fact ``f:<field>`` (its value), ``a:<field>`` (the field as first written) and
  ``w:<field>`` (which API and call first stated it); per call that produced or
  mentioned it ``s:<cache key>``; per other entity it refers to ``r:<record>``.
  Fields are compared across spellings (``readyInMinutes`` is ``ready_in_minutes``).
* ``n\\x1f<category>\\x1f<tool>\\x1f<name, casefolded>``: ``entity``, the record of
  the first entity known by that name or title.

Every field is written once: the first statement of a fact is the world's, later
replies that say otherwise do not change it (and simulated ones are reconciled to
it). So in ``record`` mode the world depends on the order of the misses that built it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from toolsim.cache.backend import SupportsRecords
from toolsim.cache.entry import CacheEntry
from toolsim.catalog.models import ApiSpec
from toolsim.simulator.base import KnownEntity
from toolsim.world.extract import (
    Entity,
    extract,
    id_value,
    is_id_field,
    is_name_field,
    named_ids,
    norm,
)

TABLE = "world"
SEP = "\x1f"
#: Longest argument value looked up as a name.
MAX_NAME_CHARS = 200

Scope = tuple[str, str]


def entity_record(scope: Scope, key: str) -> str:
    """The record name of an entity (identifiers are scoped by category and tool)."""
    return SEP.join(("e", *scope, key))


def name_record(scope: Scope, name: str) -> str:
    """The record name of a name or title."""
    return SEP.join(("n", *scope, name.strip().casefold()))


def facts_of(entity: dict[str, Any]) -> dict[str, Any]:
    """A stored entity's facts by their field name as first written."""
    return {
        entity.get("a:" + field[2:], field[2:]): value
        for field, value in entity.items()
        if field.startswith("f:")
    }


def known_entity(entity: dict[str, Any], argument: str, by_name: bool) -> KnownEntity:
    """A stored entity as the simulator is given it."""
    return KnownEntity(
        type=str(entity.get("type", "")),
        id_field=str(entity.get("id_field", "id")),
        id=entity.get("id"),
        facts=facts_of(entity),
        argument=argument,
        by_name=by_name,
    )


def _entity_fields(entity: Entity, key: str, entry: CacheEntry) -> dict[str, Any]:
    where = f"{entry.api} {key[:12]}"
    fields: dict[str, Any] = {
        "type": entity.type,
        "id_field": entity.id_field,
        "id": entity.raw_id,
        f"s:{key}": {"api": entry.api, "source": entry.source.value, "role": "reply"},
    }
    for name, value in entity.facts.items():
        field = norm(name)
        fields.setdefault(f"f:{field}", value)
        fields.setdefault(f"a:{field}", name)
        fields.setdefault(f"w:{field}", where)
    return fields


def _merge(records: dict[str, dict[str, Any]], name: str, fields: dict[str, Any]) -> None:
    """Add fields to a record of ``records``; a field already there keeps its value."""
    current = records.setdefault(name, {})
    for field, value in fields.items():
        current.setdefault(field, value)


def records_of(key: str, entry: CacheEntry) -> dict[str, dict[str, Any]]:
    """The records one stored reply adds to the world (first statement wins within it too)."""
    scope = (entry.category, entry.tool)
    records: dict[str, dict[str, Any]] = {}
    if not entry.reply.error:
        for entity in extract(entry.reply.response, entry.arguments, entry.api):
            record = entity_record(scope, entity.id)
            fields = _entity_fields(entity, key, entry)
            _merge(records, record, fields)
            # The same entity under each of its other exact ids (``_id`` beside ``id``), so
            # a call naming either finds it; each record keeps its first statements.
            for _alias_field, alias in entity.aliases:
                _merge(records, entity_record(scope, alias), fields)
            for ref_field, ref in entity.refs:
                _merge(records, record, {f"r:{entity_record(scope, ref)}": ref_field})
            for name, value in entity.facts.items():
                if is_name_field(name) and isinstance(value, str) and value.strip():
                    _merge(records, name_record(scope, value), {"entity": record})
    for _, value in named_ids(entry.arguments):
        mention = {"api": entry.api, "source": entry.source.value, "role": "argument"}
        _merge(records, entity_record(scope, id_value(value) or ""), {f"s:{key}": mention})
    return records


class World:
    """The entity graph's store: fed with stored replies, consulted on misses."""

    def __init__(self, backend: SupportsRecords) -> None:
        self.backend = backend

    def observe(self, key: str, entry: CacheEntry) -> int:
        """Add what one stored reply says; return how many records it touched."""
        return self.observe_many([(key, entry)])

    def observe_many(self, items: Iterable[tuple[str, CacheEntry]]) -> int:
        """Add what many stored replies say, in one write; return the records touched."""
        records: dict[str, dict[str, Any]] = {}
        for key, entry in items:
            for name, fields in records_of(key, entry).items():
                _merge(records, name, fields)
        if records:
            self.backend.records_merge(TABLE, records)
        return len(records)

    def lookup(self, names: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Stored records by name (missing ones left out)."""
        return self.backend.records_get(TABLE, names)

    def known(self, api: ApiSpec, arguments: dict[str, Any]) -> tuple[KnownEntity, ...]:
        """The known entities a call's arguments name: by identifier, or by exact name."""
        scope = (api.category_folder, api.tool_key)
        by_id = {entity_record(scope, id_value(v) or ""): p for p, v in named_ids(arguments)}
        by_name = {
            name_record(scope, value): parameter
            for parameter, value in arguments.items()
            if isinstance(value, str)
            and not is_id_field(parameter)
            and 2 <= len(value.strip()) <= MAX_NAME_CHARS
        }
        if not by_id and not by_name:
            return ()
        found = self.lookup([*by_id, *by_name])
        named = {
            found[name]["entity"]: parameter
            for name, parameter in by_name.items()
            if name in found and found[name].get("entity") not in by_id
        }
        if named:
            found |= self.lookup(named)
        known = [
            known_entity(found[name], parameter, False)
            for name, parameter in by_id.items()
            if name in found and "id" in found[name]
        ]
        known += [
            known_entity(found[name], parameter, True)
            for name, parameter in named.items()
            if name in found and "id" in found[name]
        ]
        return tuple(known)

    def clear(self) -> int:
        """Forget the whole world; return how many records it held."""
        return self.backend.records_clear(TABLE)

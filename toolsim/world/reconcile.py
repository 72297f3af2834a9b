"""Reconciliation: a simulated reply takes the facts the world already knows.

After a simulator answers a miss, three kinds of object in its reply are matched
with known entities, and each of their fields that names a known fact of that
entity (compared across spellings) takes the known value:

1. the *subject* (the top-level object, or the one under ``data``/``result``/...)
   of a call whose arguments name a known entity by identifier; its identifier
   field, if it has one called ``id`` or like the argument, takes the entity's id
   (when the entity is not known yet, a subject's field named like the call's one
   identifier argument still takes the argument's value);
2. any object whose name or title equals that of an entity the arguments named by name;
3. any object anywhere whose primary identifier is a known entity of the same tool.

Only replies toolsim made up (simulated, or adapted from a recorded one) are
reconciled (a real or recorded reply is the truth), and only successful ones.
Every change is listed in the simulation's provenance.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

from toolsim.cache.entry import Reply
from toolsim.simulator.base import KnownEntity, Simulation, SimulationRequest
from toolsim.world.extract import (
    decode,
    is_fact,
    is_name_field,
    named_ids,
    names_another,
    norm,
    primary_id,
    subject_path,
    walk,
)
from toolsim.world.store import World, entity_record, known_entity

#: Characters of a value kept in the provenance of a change.
SHOWN_CHARS = 80


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return a == b


def _shown(value: Any) -> Any:
    if isinstance(value, str) and len(value) > SHOWN_CHARS:
        return value[: SHOWN_CHARS - 3] + "..."
    return value


class _Changes:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def apply(self, obj: dict[str, Any], path: str, entity: KnownEntity, id_field: str) -> None:
        """Set every field of ``obj`` that names a fact of ``entity`` to the known value."""
        label = f"{entity.type or 'entity'} {entity.id}"
        if id_field and id_field in obj and not _same(obj[id_field], entity.id):
            self._set(obj, id_field, entity.id, path, label)
        facts = {norm(name): value for name, value in entity.facts.items()}
        for field in list(obj):
            key = norm(str(field))
            if field == id_field or key not in facts:
                continue
            current = obj[field]
            if (current is None or is_fact(current)) and not _same(current, facts[key]):
                self._set(obj, field, facts[key], path, label)

    def _set(self, obj: dict[str, Any], field: str, value: Any, path: str, label: str) -> None:
        self.items.append(
            {
                "path": f"{path}.{field}",
                "entity": label,
                "was": _shown(obj[field]),
                "now": _shown(value),
            }
        )
        obj[field] = value


def _subject_id_field(obj: dict[str, Any], entity: KnownEntity) -> str | None:
    """The identifier field of the subject to set, "" for none, None if not the subject."""
    found = primary_id(obj)
    if found is None or names_another(found[0], entity.argument or entity.id_field):
        return ""
    field, key = found
    if key == str(entity.id).strip():
        return field
    alike = {"id", norm(entity.id_field), norm(entity.argument)}
    return field if norm(field) in alike else None


def _echo_argument(
    subject: tuple[dict[str, Any], str], request: SimulationRequest, changes: _Changes
) -> None:
    """The subject's field named like the call's one identifier argument takes its value.

    Even before the world knows the entity, the call says who it is about: a quote for
    ``symbol=ACME`` is ACME's.
    """
    ids = named_ids(request.arguments)
    if len(ids) != 1:
        return
    parameter, value = ids[0]
    same = [field for field in subject[0] if norm(str(field)) == norm(parameter)]
    if len(same) == 1:
        bare = KnownEntity(type="", id_field=same[0], id=value, facts={}, argument=parameter)
        changes.apply(subject[0], subject[1], bare, same[0])


def reconcile_response(
    world: World | None, request: SimulationRequest, response: Any
) -> tuple[Any, list[dict[str, Any]]]:
    """``response`` with known facts applied, and the list of changes (see the module)."""
    data = decode(response)
    if not isinstance(data, dict | list):
        return response, []
    data = copy.deepcopy(data)  # never change the simulator's own object
    changes = _Changes()
    done: set[int] = set()
    by_id = [known for known in request.known if not known.by_name]
    subject = subject_path(data)
    if len(by_id) == 1 and subject is not None:
        id_field = _subject_id_field(subject[0], by_id[0])
        if id_field is not None:
            changes.apply(subject[0], subject[1], by_id[0], id_field)
            done.add(id(subject[0]))
    elif subject is not None:
        _echo_argument(subject, request, changes)
    by_name = [known for known in request.known if known.by_name]
    objects = list(walk(data))
    for entity in by_name:
        names = {
            str(value).strip().casefold()
            for name, value in entity.facts.items()
            if is_name_field(name) and isinstance(value, str)
        }
        for obj, path, _holder in objects:
            if id(obj) in done:
                continue
            if any(
                is_name_field(str(f)) and isinstance(v, str) and v.strip().casefold() in names
                for f, v in obj.items()
            ):
                found = primary_id(obj)
                changes.apply(obj, path, entity, found[0] if found else "")
                done.add(id(obj))
    if world is not None:
        _apply_known_ids(world, request, objects, done, changes)
    if not changes.items:
        return response, []
    # A reply written as JSON text stays text.
    return (
        json.dumps(data, ensure_ascii=False) if isinstance(response, str) else data
    ), changes.items


def _apply_known_ids(
    world: World,
    request: SimulationRequest,
    objects: list[tuple[dict[str, Any], str, str]],
    done: set[int],
    changes: _Changes,
) -> None:
    scope = (request.api.category_folder, request.api.tool_key)
    wanted: dict[int, tuple[dict[str, Any], str, str, str]] = {}
    for obj, path, _holder in objects:
        found = primary_id(obj)
        if found is not None and id(obj) not in done:
            wanted[id(obj)] = (obj, path, found[0], entity_record(scope, found[1]))
    if not wanted:
        return
    records = world.lookup({record for *_rest, record in wanted.values()})
    for obj, path, field, record in wanted.values():
        stored = records.get(record)
        if stored is not None and "id" in stored:
            # Found by its own identifier (perhaps an alias such as ``_id``): that stays.
            known = replace(known_entity(stored, field, False), id=obj[field])
            changes.apply(obj, path, known, field)


def settle(world: World | None, request: SimulationRequest, simulation: Simulation) -> Simulation:
    """A simulation reconciled with the world (unchanged unless made up and successful)."""
    if not simulation.source.reconcilable or simulation.reply.error:
        return simulation
    response, changes = reconcile_response(world, request, simulation.reply.response)
    if not changes:
        return simulation
    return replace(
        simulation,
        reply=Reply(error=simulation.reply.error, response=response),
        reconciled=tuple(changes),
    )

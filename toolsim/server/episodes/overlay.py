"""An episode's own world: what it has seen and changed, layered over the shared one.

The shared replay cache and world are read-only to an episode. What its calls
reveal or change is kept in its overlay, records in the world's own layout
(:mod:`toolsim.world.store`), so that inside the episode create, read, update and
delete agree, and no other episode sees any of it:

* every reply it is given adds the entities it names (a later statement of a fact
  replaces an earlier one, unlike the shared world, where the first stays);
* an *update* call (``update``, ``edit``, ``set``, ... or HTTP PUT/PATCH) with one
  identifier argument states its other arguments as the entity's new facts;
* a *delete* call (``delete``, ``remove``, ``cancel``, ... or HTTP DELETE) marks the
  entities it names deleted: a later call naming one is answered "not found";
* every reply, stored or simulated, is reconciled with the overlay before the agent
  sees it (:func:`~toolsim.world.reconcile.reconcile_response`), so a read after an
  update shows the update.

Which calls change things is read from the API's HTTP method and the first word
of its name; an API that changes state under another name is treated as a read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from toolsim.cache.backend import SupportsRecords
from toolsim.cache.entry import CacheEntry, Reply, Source
from toolsim.catalog.models import ApiSpec
from toolsim.simulator.base import SimulationRequest
from toolsim.world import World
from toolsim.world.extract import id_value, is_fact, named_ids, norm
from toolsim.world.reconcile import reconcile_response
from toolsim.world.store import entity_record, records_of

#: Session fields holding overlay records: ``o:<record name>``.
FIELD = "o:"
#: A record's mark of an entity deleted in the episode.
DELETED = "deleted"


class CallKind(StrEnum):
    """What a call does to the entities it names."""

    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


_VERBS = {
    CallKind.CREATE: {"create", "add", "new", "insert", "register", "book", "submit", "post"},
    CallKind.UPDATE: {"update", "edit", "modify", "set", "change", "rename", "patch", "put"},
    CallKind.DELETE: {"delete", "remove", "cancel", "destroy", "drop", "del", "erase"},
}
_METHODS = {"DELETE": CallKind.DELETE, "PUT": CallKind.UPDATE, "PATCH": CallKind.UPDATE}
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def call_kind(api: ApiSpec) -> CallKind:
    """What a call of ``api`` does: by its HTTP method, else by the first word of its name."""
    by_method = _METHODS.get(api.method.upper())
    if by_method is not None:
        return by_method
    words = _WORD.findall(api.name)
    first = words[0].lower() if words else ""
    for kind, verbs in _VERBS.items():
        if first in verbs:
            return kind
    return CallKind.READ


class LayeredRecords:
    """The world's records as an episode sees them: its overlay over the shared table.

    Enough of :class:`~toolsim.cache.backend.SupportsRecords` for a :class:`World` to
    look things up; the overlay is never written through it.
    """

    def __init__(self, overlay: dict[str, dict[str, Any]], shared: SupportsRecords | None) -> None:
        self.overlay = overlay
        self.shared = shared

    def records_get(self, table: str, names: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Shared records with the overlay's fields over them (the overlay's word wins)."""
        wanted = list(names)
        found = self.shared.records_get(table, wanted) if self.shared is not None else {}
        for name in wanted:
            own = self.overlay.get(name)
            if own is not None:
                found[name] = {**found.get(name, {}), **own}
        return found


@dataclass(frozen=True)
class Overlay:
    """An episode's records (record name -> fields), as read from its session."""

    records: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, fields: dict[str, Any]) -> Overlay:
        """The overlay held in a session's fields."""
        return cls(
            {name[len(FIELD) :]: value for name, value in fields.items() if name.startswith(FIELD)}
        )

    def world(self, shared: World | None = None) -> World:
        """A world that sees the overlay over ``shared`` (or the overlay alone)."""
        records = LayeredRecords(self.records, shared.backend if shared is not None else None)
        return World(records)  # type: ignore[arg-type]  # reads only

    def deleted(self, api: ApiSpec, arguments: dict[str, Any]) -> str | None:
        """The identifier of an entity the arguments name that the episode deleted, if any."""
        scope = (api.category_folder, api.tool_key)
        for _parameter, value in named_ids(arguments):
            key = id_value(value)
            record = self.records.get(entity_record(scope, key or ""))
            if record is not None and record.get(DELETED):
                return key
        return None

    def serve(self, api: ApiSpec, arguments: dict[str, Any], key: str, reply: Reply) -> Reply:
        """``reply`` as the episode sees it: reconciled with what the overlay knows."""
        if not self.records or reply.error or not self._may_mention(api, arguments, reply):
            return reply
        world = self.world()
        request = SimulationRequest(api=api, arguments=arguments, key=key)
        request = replace(request, known=world.known(api, arguments))
        response, changes = reconcile_response(world, request, reply.response)
        return Reply(error=reply.error, response=response) if changes else reply

    def _may_mention(self, api: ApiSpec, arguments: dict[str, Any], reply: Reply) -> bool:
        """Whether the call or its reply can name an entity of the overlay (a cheap test on
        text: most replies name none, and reconciling walks the whole reply)."""
        prefix = entity_record((api.category_folder, api.tool_key), "")
        ids = [name[len(prefix) :] for name in self.records if name.startswith(prefix)]
        if not ids:
            return False
        text = reply.response if isinstance(reply.response, str) else json.dumps(reply.response)
        text += json.dumps(arguments, ensure_ascii=False)
        return any(entity_id in text for entity_id in ids)

    def learn(
        self,
        api: ApiSpec,
        arguments: dict[str, Any],
        key: str,
        reply: Reply,
        source: Source,
        *,
        fresh: bool,
    ) -> dict[str, dict[str, Any]]:
        """The overlay records a call changes (record name -> its new fields).

        What a stored reply of a read says is already the shared world's (or the overlay's,
        for a reply this episode kept): only a ``fresh`` reply simulated for this episode,
        or a call that changes things, teaches the overlay.
        """
        kind = call_kind(api)
        if kind is CallKind.READ and not fresh:
            return {}
        entry = CacheEntry.of(api, arguments, reply, source)
        changed = records_of(key, entry) if not reply.error else {}
        if kind is CallKind.CREATE:
            for fields in changed.values():
                if "id" in fields:
                    fields[DELETED] = False  # created again
        scope = (api.category_folder, api.tool_key)
        ids = named_ids(arguments)
        if not reply.error and kind is CallKind.UPDATE and len(ids) == 1:
            parameter, value = ids[0]
            name = entity_record(scope, id_value(value) or "")
            record = changed.setdefault(name, {})
            record.update(_stated(api, arguments, parameter))
            if "id" not in record and "id" not in self.records.get(name, {}):
                # The entity is known by the call alone (its reply may say nothing of it).
                record.update({"id": value, "id_field": parameter})
        if not reply.error and kind is CallKind.DELETE:
            for _parameter, value in ids:
                changed.setdefault(entity_record(scope, id_value(value) or ""), {})[DELETED] = True
        return {
            name: {**self.records.get(name, {}), **fields}
            for name, fields in changed.items()
            if fields
        }


def _stated(api: ApiSpec, arguments: dict[str, Any], id_parameter: str) -> dict[str, Any]:
    """The facts an update call states: its other scalar arguments, as world fields."""
    fields: dict[str, Any] = {}
    for name, value in arguments.items():
        if name == id_parameter or not is_fact(value):
            continue
        field = norm(name)
        fields[f"f:{field}"] = value
        fields[f"a:{field}"] = name
        fields[f"w:{field}"] = f"{api.api_key} (update)"
    return fields


def session_fields(changes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Overlay changes as the session fields that hold them."""
    return {FIELD + name: fields for name, fields in changes.items()}

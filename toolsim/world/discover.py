"""``toolsim world probe``: find search -> details pairs in any catalog and check them.

A *pair* is two APIs of one tool: one that lists things (a search, a list, a
feed) and one that gives the details of one thing by its identifier (a required
parameter such as ``movie_id``, ``id`` or ``symbol``). Pairs are found from the
documentation alone, then probed: the lister is called with documented defaults
(or a placeholder per type); the first listed entity whose primary identifier fits
the details API's parameter (the same name across spellings, or an exact ``id`` of
the kind of thing the parameter or the details API names) is asked for in detail;
and the two views of that one entity are compared: every scalar field both have
(compared across spellings), and the identifier. A consistent world answers each
such fact once.

The calls go through a ``call(api, arguments)`` function the caller provides (the
CLI hands over a server's :class:`~toolsim.server.ToolService`), so the probe
measures whatever simulator, cache and world that server has.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from toolsim.catalog.models import ApiSpec, ParamType
from toolsim.errors import ToolsimError
from toolsim.world.check import comparable
from toolsim.world.extract import (
    decode,
    is_fact,
    is_id_field,
    norm,
    primary_id,
    singular,
    subject_path,
    type_of,
    walk,
)

#: Placeholder arguments by documented type, for required parameters without a default.
PLACEHOLDERS: dict[ParamType, Any] = {
    ParamType.NUMBER: 1,
    ParamType.BOOLEAN: True,
    ParamType.DATE: "2024-06-01",
    ParamType.TIME: "12:00",
}
_EXACT_IDS = frozenset({"id", "_id"})
_ID_SUFFIX = re.compile(r"[_\-]?(id|Id|ID)$")

Call = Callable[[ApiSpec, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class CandidatePair:
    """A lister and a details API of one tool, and the details API's identifier parameter."""

    search: ApiSpec
    details: ApiSpec
    parameter: str

    @property
    def label(self) -> str:
        """``tool: lister -> details``."""
        return f"{self.details.tool_name}: {self.search.name} -> {self.details.name}"


@dataclass
class PairResult:
    """What one probed pair showed: the facts both views gave, and which disagreed."""

    label: str
    search: str
    details: str
    arguments: dict[str, Any]
    facts: list[tuple[str, Any, Any]] = field(default_factory=list)

    @property
    def disagreements(self) -> list[tuple[str, Any, Any]]:
        """The shared facts whose two values differ."""
        return [fact for fact in self.facts if comparable(fact[1]) != comparable(fact[2])]

    def to_json(self) -> dict[str, Any]:
        """The result as JSON data."""
        return {
            "pair": self.label,
            "search": self.search,
            "details": self.details,
            "details_arguments": self.arguments,
            "facts": len(self.facts),
            "agreeing": len(self.facts) - len(self.disagreements),
            "disagreements": [list(fact) for fact in self.disagreements],
        }


@dataclass
class ProbeReport:
    """Every pair found and probed, with the totals."""

    candidates: int = 0
    pairs: list[PairResult] = field(default_factory=list)
    #: Candidate pairs that gave nothing to compare, by reason.
    skipped: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def facts(self) -> int:
        """Facts compared over every probed pair."""
        return sum(len(pair.facts) for pair in self.pairs)

    @property
    def agreeing(self) -> int:
        """Facts that agreed."""
        return self.facts - sum(len(pair.disagreements) for pair in self.pairs)

    def line(self) -> str:
        """One line for people."""
        if not self.facts:
            return f"{len(self.pairs)} pairs probed, no fact to compare"
        return (
            f"{len(self.pairs)} pairs, {self.agreeing}/{self.facts} facts agree "
            f"({100 * self.agreeing / self.facts:.1f}%)"
        )

    def to_json(self) -> dict[str, Any]:
        """The report as JSON data."""
        return {
            "candidates": self.candidates,
            "pairs_probed": len(self.pairs),
            "facts": self.facts,
            "agreeing": self.agreeing,
            "skipped": dict(self.skipped),
            "pairs": [pair.to_json() for pair in self.pairs],
        }


#: Parameter types no placeholder stands in for.
_UNFILLABLE = frozenset({ParamType.ARRAY, ParamType.OBJECT, ParamType.BINARY})


def _fillable(api: ApiSpec, skip: str = "") -> bool:
    """Whether every required parameter but ``skip`` has a default or a placeholder."""
    return all(
        p.name == skip or p.default is not None or p.type not in _UNFILLABLE for p in api.required
    )


def probe_arguments(api: ApiSpec, **given: Any) -> dict[str, Any]:
    """Documented defaults of the required parameters, a placeholder where none, and ``given``."""
    arguments = {
        p.name: p.default if p.default not in (None, "") else PLACEHOLDERS.get(p.type, "test")
        for p in api.required
    }
    return arguments | given


def id_parameter(api: ApiSpec) -> str | None:
    """The one required identifier parameter of a details API, or None."""
    ids = [p.name for p in api.required if is_id_field(p.name)]
    return ids[0] if len(ids) == 1 else None


def discover_pairs(apis: Iterable[ApiSpec]) -> list[CandidatePair]:
    """Every (lister, details API) pair of each tool, from the documentation alone.

    A details API has exactly one required identifier parameter; a lister of the
    same tool is any other API that does not need that identifier and whose
    required parameters can be filled.
    """
    by_tool: dict[tuple[str, str], list[ApiSpec]] = defaultdict(list)
    for api in apis:
        by_tool[(api.category_folder, api.tool_key)].append(api)
    pairs = []
    for tool_apis in by_tool.values():
        for details in tool_apis:
            parameter = id_parameter(details)
            if parameter is None or not _fillable(details, parameter):
                continue
            for search in tool_apis:
                needs = {norm(p.name) for p in search.required}
                if search is details or norm(parameter) in needs or not _fillable(search):
                    continue
                pairs.append(CandidatePair(search, details, parameter))
    return pairs


def _words(name: str) -> set[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return {singular(word) for word in re.split(r"[^a-z0-9]+", spaced.lower()) if word}


def _fits(id_field: str, kind: str, pair: CandidatePair) -> bool:
    """Whether a listed entity (its primary identifier field, its type) is the kind of
    thing the details API asks for: the same identifier name (``movieId`` for
    ``movie_id``), or an exact ``id`` of a thing the parameter (``team_id``) or, for a
    bare ``id``, the details API's name (*Get a specific team*) names."""
    if norm(id_field) == norm(pair.parameter):
        return True
    if id_field.lower() not in _EXACT_IDS:
        return False
    stem = norm(_ID_SUFFIX.sub("", pair.parameter))
    kinds = _words(kind)
    if stem and stem not in ("is", "id"):
        return stem == norm(kind) or singular(stem) in kinds
    return bool(kinds & _words(pair.details.name))


def first_entity(response: Any, pair: CandidatePair) -> tuple[dict[str, Any], str] | None:
    """The first listed entity the details API can be asked about, and its id field."""
    for obj, path, holder in walk(decode(response)):
        found = primary_id(obj)
        if found is None or not path.endswith("]"):
            continue
        if _fits(found[0], type_of(found[0], holder, pair.search.name), pair):
            return obj, found[0]
    return None


def shared_facts(
    item: dict[str, Any], id_field: str, details: Any, parameter: str
) -> list[tuple[str, Any, Any]]:
    """(field, value in the list, value in the details) for every scalar fact both views
    give (compared across spellings), and for the identifier where the details show it."""
    subject = subject_path(decode(details))
    if subject is None:
        return []
    detail = subject[0]
    by_name = {norm(str(k)): v for k, v in detail.items() if is_fact(v)}
    own = {norm(id_field), *(norm(name) for name in _EXACT_IDS)}  # the ids, compared below
    facts = [
        (str(name), value, by_name[norm(str(name))])
        for name, value in item.items()
        if norm(str(name)) not in own and is_fact(value) and norm(str(name)) in by_name
    ]
    for shown in (id_field, parameter, "id"):
        if shown in detail:
            facts.append((f"{id_field} -> {shown}", item[id_field], detail[shown]))
            break
    return facts


async def probe(
    pairs: Iterable[CandidatePair],
    call: Call,
    *,
    progress: Callable[[int], None] | None = None,
    per_details: int = 1,
) -> ProbeReport:
    """Probe candidate pairs (at most ``per_details`` successful listers per details API).

    A call that fails (an error reply, a simulator failure) or a lister that lists no
    entity for the parameter skips the pair, counted by reason.
    """
    report = ProbeReport()
    done: dict[str, int] = defaultdict(int)
    for pair in pairs:
        report.candidates += 1
        if progress is not None:
            progress(1)
        if done[pair.details.function_name] >= per_details:
            continue
        try:
            listed = await call(pair.search, probe_arguments(pair.search))
        except ToolsimError:
            report.skipped["lister failed"] += 1
            continue
        found = first_entity(listed, pair)
        if found is None:
            report.skipped["no entity listed for the parameter"] += 1
            continue
        item, id_field = found
        arguments = probe_arguments(pair.details, **{pair.parameter: item[id_field]})
        try:
            details = await call(pair.details, arguments)
        except ToolsimError:
            report.skipped["details failed"] += 1
            continue
        facts = shared_facts(item, id_field, details, pair.parameter)
        result = PairResult(
            pair.label, pair.search.function_name, pair.details.function_name, arguments, facts
        )
        if not result.facts:
            report.skipped["no shared fact"] += 1
            continue
        report.pairs.append(result)
        done[pair.details.function_name] += 1
    return report

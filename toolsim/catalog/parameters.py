"""An API's parameters in one place: their names, StableToolBench's names for them, coercion.

StableToolBench's client shows an agent every parameter renamed the way it
renames API names (``ID`` -> ``is_id``, ``brandName`` -> ``brandname``), so
existing agents, and the keys of the reference cache, use those names.
:class:`Signature` accepts both spellings, maps them to the documented name,
coerces values to the documented type where that is unambiguous, and says what
a real API would reject. Validation (the server) and the canonical arguments of
a cache key (the cache, the reference-cache import) both go through it, so
they can never disagree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from toolsim.catalog.models import Parameter, ParamType
from toolsim.catalog.names import standardize_api
from toolsim.errors import InvalidArguments

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INTEGER_TEXT = re.compile(r"\s*[+-]?\d+\s*")
# orjson refuses integers outside 64 bits; coercion never creates one.
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class ParamNames(StrEnum):
    """How parameter names are presented to an agent."""

    #: The names in the API's documentation (toolsim's default).
    DOCUMENTED = "documented"
    #: The names StableToolBench's client showed its agents (``is_id``, ``brandname``, ...).
    STB = "stb"


def stb_parameter_name(name: str) -> str:
    """The name StableToolBench's client shows an agent for a documented parameter name.

    The same rule as for API names: standardized, and ``is_`` before a reserved word.
    """
    return standardize_api(name)


def _fits_int64(number: float) -> bool:
    return _INT64_MIN <= number <= _INT64_MAX


def _as_number(number: float) -> int | float:
    return int(number) if number.is_integer() and _fits_int64(number) else number


def coerce_number(value: Any) -> Any:
    """Return ``value`` as an int or float when it unambiguously is one, else unchanged."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return _as_number(value) if math.isfinite(value) else value
    if isinstance(value, str):
        text = value.strip()
        if _INT.fullmatch(text):
            number = int(text)
            return number if _fits_int64(number) else value
        if _FLOAT.fullmatch(text):
            real = float(text)
            if math.isfinite(real):
                return _as_number(real)
    return value


def coerce_boolean(value: Any) -> Any:
    """Return ``value`` as a bool when it is ``true``/``false`` in any case, else unchanged."""
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
    return value


def _is_number(value: Any) -> bool:
    if isinstance(value, str):
        # Integers beyond 64 bits stay text after coercion, yet are numbers.
        return _INTEGER_TEXT.fullmatch(value) is not None
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_boolean(value: Any) -> bool:
    # 0/1 (also as text, as in query strings) are what many real APIs accept for flags.
    return isinstance(value, bool) or value in (0, 1, "0", "1")


@dataclass(frozen=True, slots=True)
class Bound:
    """Arguments mapped to documented names and coerced, with what a real API would reject."""

    arguments: dict[str, Any]
    problems: tuple[str, ...] = ()
    #: Client spellings that were mapped to a documented name (client name -> documented).
    renamed: tuple[tuple[str, str], ...] = ()


class Signature:
    """The parameters of one API: lookup by either spelling, coercion, validation.

    A name documented twice (it happens in real tool definitions) is one
    parameter: the first definition, required if either one is. A documented
    name always means that parameter; a StableToolBench name means the one
    parameter it was made from, and is refused as ambiguous when it was made
    from several (a *collision*).
    """

    def __init__(self, parameters: Iterable[Parameter]) -> None:
        documented: dict[str, Parameter] = {}
        for param in parameters:
            first = documented.get(param.name)
            if first is None:
                documented[param.name] = param
            elif param.required and not first.required:
                documented[param.name] = replace(first, required=True)
        self.parameters: tuple[Parameter, ...] = tuple(documented.values())
        self.required: tuple[Parameter, ...] = tuple(p for p in self.parameters if p.required)
        stb_name = {p.name: stb_parameter_name(p.name) for p in self.parameters}
        made_from: dict[str, list[str]] = {}
        for param in self.parameters:
            made_from.setdefault(stb_name[param.name], []).append(param.name)
        #: StableToolBench names made from more than one documented name.
        self.collisions: dict[str, tuple[str, ...]] = {
            alias: tuple(names) for alias, names in made_from.items() if len(names) > 1
        }
        self._by_name: dict[str, Parameter] = dict(documented)
        self._ambiguous: dict[str, tuple[str, ...]] = {}
        for alias, names in made_from.items():
            if alias in documented:
                continue  # the documented name wins
            if len(names) == 1:
                self._by_name[alias] = documented[names[0]]
            else:
                self._ambiguous[alias] = tuple(names)
        self._required = tuple((p.name, _missing(p, stb_name[p.name])) for p in self.required)
        # Both presentations, fixed here: presented() runs on every tool listing.
        stb = {stb_name[p.name]: p for p in (self.parameters if self.required else ())}
        self._shown: dict[ParamNames, list[tuple[str, Parameter]]] = {
            ParamNames.DOCUMENTED: [(p.name, p) for p in self.parameters],
            ParamNames.STB: list(stb.items()),
        }
        # Per accepted spelling: the documented name, its coercion and its check.
        self._slots: dict[str, tuple[str, Any, Any]] = {
            sent: (param.name, _COERCE.get(param.type), _check(param))
            for sent, param in self._by_name.items()
        }

    def lookup(self, name: str) -> Parameter | None:
        """The parameter a client means by ``name`` (documented or StableToolBench spelling)."""
        return self._by_name.get(name)

    def presented(self, names: ParamNames | str) -> list[tuple[str, Parameter]]:
        """The parameters as an agent is shown them: ``(name, parameter)`` pairs.

        With StableToolBench names this mirrors its client exactly: renamed, a later
        parameter of the same name replacing an earlier one, and optional parameters
        shown only when the API has a required one (a quirk of that client).
        """
        return list(self._shown[ParamNames(names)])

    def canonical(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments under documented names, coerced, keys sorted (no validation)."""
        return self._bind(arguments, check=False).arguments

    def bind(self, arguments: Mapping[str, Any]) -> Bound:
        """The canonical arguments and every way they break the documentation."""
        return self._bind(arguments, check=True)

    def _bind(self, arguments: Mapping[str, Any], *, check: bool) -> Bound:
        # On every tool call (the cache-hit path too): plain loops over precomputed slots.
        mapped: dict[str, Any] = {}
        problems: list[str] = []
        renamed: list[tuple[str, str]] = []
        slots = self._slots
        for sent, raw in arguments.items():
            slot = slots.get(sent)
            if slot is None:
                if check and sent in self._ambiguous:
                    names = " and ".join(f"'{n}'" for n in self._ambiguous[sent])
                    problems.append(
                        f"parameter '{sent}' is ambiguous: StableToolBench's name for both "
                        f"{names}; send the documented name"
                    )
                mapped[sent] = raw
                continue
            name, coerce, problem_of = slot
            value = raw if coerce is None else coerce(raw)
            if sent != name:
                renamed.append((sent, name))
                if name in arguments:
                    # Both spellings sent: the documented one stands.
                    other = arguments[name]
                    if check and (other if coerce is None else coerce(other)) != value:
                        problems.append(
                            f"parameter '{name}' was sent twice, also as '{sent}', "
                            "with different values"
                        )
                    continue
            if check and problem_of is not None and value is not None and value != "":
                problem = problem_of(name, value, raw)
                if problem:
                    problems.append(problem)
            mapped[name] = value
        if check:
            for name, missing in self._required:
                if mapped.get(name) is None:
                    problems.append(missing)
        return Bound(
            dict(sorted(mapped.items())),
            tuple(problems) if problems else (),
            tuple(renamed) if renamed else (),
        )

    def validated(self, arguments: Mapping[str, Any], api_name: str, function: str) -> Bound:
        """:meth:`bind`, raising :class:`InvalidArguments` listing every problem."""
        bound = self.bind(arguments)
        if bound.problems:
            raise InvalidArguments(
                f"{api_name}: " + "; ".join(bound.problems),
                problems=list(bound.problems),
                function=function,
            )
        return bound


def _as_text(value: Any) -> Any:
    # A number sent for a STRING parameter means its text ("5" and 5 are one call).
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _number_problem(name: str, value: Any, raw: Any) -> str:
    return "" if _is_number(value) else f"parameter '{name}' must be a number, got {raw!r}"


def _boolean_problem(name: str, value: Any, raw: Any) -> str:
    return "" if _is_boolean(value) else f"parameter '{name}' must be true or false, got {raw!r}"


def _date_problem(name: str, value: Any, raw: Any) -> str:
    if isinstance(raw, str) and _DATE.fullmatch(raw.strip()):
        return ""
    return f"parameter '{name}' must be a date YYYY-MM-DD, got {raw!r}"


#: How a value of each documented type is coerced (unambiguous cases only), and checked.
_COERCE: dict[ParamType, Callable[[Any], Any]] = {
    ParamType.NUMBER: coerce_number,
    ParamType.BOOLEAN: coerce_boolean,
    ParamType.STRING: _as_text,
}
_CHECK: dict[ParamType, Callable[[str, Any, Any], str]] = {
    ParamType.NUMBER: _number_problem,
    ParamType.BOOLEAN: _boolean_problem,
    ParamType.DATE: _date_problem,
}


def _check(param: Parameter) -> Callable[[str, Any, Any], str] | None:
    """The check of one parameter's values: its type's, and its listed values' if any."""
    typed = _CHECK.get(param.type)
    if not param.enum:
        return typed
    allowed = param.enum

    def check(name: str, value: Any, raw: Any) -> str:
        if value not in allowed:
            listed = ", ".join(repr(item) for item in allowed)
            return f"parameter '{name}' must be one of {listed}, got {raw!r}"
        return typed(name, value, raw) if typed is not None else ""

    return check


def _missing(param: Parameter, alias: str) -> str:
    also = f", or '{alias}'" if alias != param.name else ""
    return f"missing required parameter '{param.name}'{also} ({param.raw_type or 'STRING'})"

"""Reading a run file's JSON into its dataclass, checked field by field.

The dataclasses are the contract; pydantic validates the JSON against them at
this boundary (a missing field takes its default, so files written before a
field existed still read), and a wrong field is named in the error.
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar, cast

from pydantic import TypeAdapter, ValidationError

T = TypeVar("T")


class InvalidRunFile(ValueError):
    """JSON that is not the run file it should be; the message names the first bad field."""


@cache
def _adapter(cls: Any) -> TypeAdapter[Any]:
    return TypeAdapter(cls)


def parse(cls: type[T], data: Any) -> T:
    """``data`` (parsed JSON) as a ``cls``; :class:`InvalidRunFile` if it cannot be one."""
    if not isinstance(data, dict):
        raise InvalidRunFile("expected a JSON object")
    try:
        adapter: TypeAdapter[T] = _adapter(cast(Any, cls))
        parsed: T = adapter.validate_python(data)
        return parsed
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise InvalidRunFile(f"field '{where}': {first['msg']}{more}") from None

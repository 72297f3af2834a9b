"""Reading data out of reply text: JSON, Python literals, and either cut off mid-way.

Recorded replies reach toolsim as text more often than as data: StableToolBench's
cache and trajectories hold many responses as the Python ``repr`` of a dict
(``{'success': True, 'data': None}``), agents see replies cut to about 1,000
characters, and long response templates are stored truncated. One reader for all of
them, so the world, the fidelity measures and the simulators see the same data.
"""

from __future__ import annotations

import ast
import io
import json
import token
import tokenize
from typing import Any

#: What a reader returns when the text holds no data.
NOT_DATA: Any = object()
#: Longest text read as a Python literal (``ast`` parses it whole, in memory).
MAX_LITERAL_CHARS = 200_000
_PY_NAMES = {"True": "true", "False": "false", "None": "null"}
_PY_BRACKETS = {"(": "[", ")": "]"}
_SKIPPED = {token.NEWLINE, token.NL, token.INDENT, token.DEDENT, token.COMMENT, token.ENDMARKER}


def parse_truncated_json(text: str) -> Any:
    """Decode JSON text, repairing text cut off mid-way; :data:`NOT_DATA` if impossible.

    Drops the partial tail after the last comma at which the text can be closed, and
    closes the brackets still open there.
    """
    try:
        return json.loads(text)
    except ValueError:
        pass
    if not text.lstrip().startswith(("{", "[")):
        return NOT_DATA
    cuts: list[tuple[int, str]] = []
    stack: list[str] = []
    in_string = escaped = False
    for i, char in enumerate(text):
        if in_string:
            escaped, in_string = (not escaped and char == "\\"), (escaped or char != '"')
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append("}" if char == "{" else "]")
        elif char in "}]" and stack:
            stack.pop()
        elif char == ",":
            cuts.append((i, "".join(reversed(stack))))
    for pos, closers in reversed(cuts[-50:]):
        try:
            return json.loads(text[:pos] + closers)
        except ValueError:
            continue
    return NOT_DATA


def _literal_as_json(text: str) -> str:
    """A Python literal's tokens rewritten as JSON, up to the first token that is not one.

    Strings become JSON strings, ``True``/``False``/``None`` JSON's names, tuples lists;
    a literal cut off mid-way gives the JSON of what came before the cut.
    """
    out: list[str] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in _SKIPPED:
                continue
            if tok.type == token.STRING:
                value = ast.literal_eval(tok.string)
                if not isinstance(value, str):
                    break  # bytes
                out.append(json.dumps(value, ensure_ascii=False))
            elif tok.type == token.NAME and tok.string in _PY_NAMES:
                out.append(_PY_NAMES[tok.string])
            elif tok.type == token.NUMBER or tok.string in "{}[]:,-":
                out.append(tok.string)
            elif tok.string in _PY_BRACKETS:
                out.append(_PY_BRACKETS[tok.string])
            else:
                break
    except (tokenize.TokenError, SyntaxError, ValueError, IndentationError):
        pass
    return "".join(out)


def _set_as_list(value: Any) -> list[Any]:
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON data")


def parse_python_literal(text: str) -> Any:
    """A dict or list written as a Python literal, even cut off; :data:`NOT_DATA` otherwise.

    Parsed with :func:`ast.literal_eval` (never ``eval``); a literal cut off mid-way
    is read up to its last complete value.
    """
    stripped = text.strip()
    if not stripped.startswith(("{", "[")) or len(stripped) > MAX_LITERAL_CHARS:
        return NOT_DATA
    try:
        value = ast.literal_eval(stripped)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        value = parse_truncated_json(_literal_as_json(stripped))
    if not isinstance(value, dict | list):
        return NOT_DATA
    try:
        # Tuples, sets and non-string keys are not JSON data: round-trip to be sure.
        return json.loads(json.dumps(value, default=_set_as_list))
    except (TypeError, ValueError):
        return NOT_DATA


def parse_data(text: str) -> Any:
    """The dict or list in reply text (JSON or a Python literal, even cut off), or NOT_DATA."""
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return NOT_DATA
    try:
        value = json.loads(stripped)
    except ValueError:
        value = NOT_DATA
    if isinstance(value, dict | list):
        return value
    literal = parse_python_literal(stripped)
    if literal is not NOT_DATA:
        return literal
    value = parse_truncated_json(stripped)
    return value if isinstance(value, dict | list) else NOT_DATA

"""Known verdicts: answers identical to a training answer get the reference's label directly.

Identical means the same query, the same final answer and the same tool calls
(name, arguments and reply, in order). 44% of the training answers recur
verbatim across agent methods, and a judge should not guess where the
reference already decided.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from toolsim.answers import Answer

#: Hex digits of the sha256 kept per answer: 64 bits, no collision among millions.
KEY_DIGITS = 16
#: The label of a training answer whose reference runs had no majority: seen, but no verdict.
NO_MAJORITY = "-"
LABELS = ("Solved", "Unsolved", "Unsure", NO_MAJORITY)


def answer_key(answer: Answer) -> str:
    """A digest of what makes two answers identical."""
    body = [
        answer.query.strip(),
        answer.final_answer.strip(),
        [[step.function, step.arguments, step.response] for step in answer.steps],
    ]
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:KEY_DIGITS]


def dump_known(table: Mapping[str, str]) -> str:
    """The table as text: ``key<TAB>label`` lines, sorted."""
    return "".join(f"{key}\t{table[key]}\n" for key in sorted(table))


def load_known(text: str) -> dict[str, str]:
    """The table :func:`dump_known` wrote.

    Raises:
        ValueError: a line is not ``key<TAB>label``.
    """
    table = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, _, label = line.partition("\t")
        if len(key) != KEY_DIGITS or label not in LABELS:
            raise ValueError(f"line {number}: expected '<{KEY_DIGITS} hex digits>\\t<label>'")
        table[key] = label
    return table

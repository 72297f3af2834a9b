"""How close a simulated reply is to a recorded one, five ways.

* **outcome**: both succeeded or both failed (a reply fails when its ``error`` is
  non-empty); 1 or 0.
* **keys**: F1 of the nested JSON key paths of the two responses (list positions
  collapsed: ``results[].title``). Two responses that are both text (or scalars) have
  the same shape, 1; a text against an object or list, 0; two empty containers
  score 1 when both are objects (or both lists), else 0.
* **types**: the share of paths both responses have, the root included, whose
  values have the same JSON type (integers and floats are both numbers); a text
  answered by an object disagrees at the root.
* **values**: Jaccard overlap of the word tokens (lowercased letters and digits) in
  all leaf values of the two responses; undefined when both have none.
* **BLEU-4**: sacrebleu's BLEU (13a tokens, exponential smoothing) of the simulated
  response's text against the recorded one's, as simulator papers report it: per
  call the n-gram statistics (:func:`bleu_stats`), summed over calls into one
  corpus score from 0 to 100 (:func:`corpus_bleu`). Needs the optional ``sacrebleu``
  package (``pip install 'toolsim[fidelity]'``); without it BLEU is left out and
  reports say so.

A response held as text is read as the JSON or Python literal it holds (the
reference world stores many replies as a Python ``repr``), so a dict written either
way compares as the same data. Keys, types, values and BLEU are measured on the calls
whose recorded reply succeeded (an error message's words say nothing about the data),
and there a simulated error scores 0 on each (an agent got no data where the real API
gave some), so every method is scored on the same calls. Undefined values (two
replies without a single word) are left out of averages.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from toolsim.cache.entry import Reply
from toolsim.world.extract import decode

MEASURES = ("outcome", "keys", "types", "values")
_TOKEN = re.compile(r"[a-z0-9]+")
#: Nesting levels whose keys and values are compared; deeper ones are ignored.
MAX_COMPARED_DEPTH = 20
#: Characters of a response's text scored by BLEU (its cost grows with the length).
MAX_BLEU_CHARS = 8000
ROOT = "$"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def key_paths(value: Any) -> dict[str, set[str]]:
    """Every key path of a JSON value with the types found there (the root is ``$``)."""
    paths: dict[str, set[str]] = {ROOT: {_kind(value)}}
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_COMPARED_DEPTH:
            continue
        if isinstance(node, dict):
            for key, item in node.items():
                child = f"{path}.{key}" if path else str(key)
                paths.setdefault(child, set()).add(_kind(item))
                stack.append((item, child, depth + 1))
        elif isinstance(node, list):
            for item in node:
                stack.append((item, f"{path}[]", depth + 1))
    return paths


def tokens(value: Any) -> set[str]:
    """The word tokens of every leaf value (and of plain text)."""
    found: set[str] = set()
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_COMPARED_DEPTH:
            continue
        if isinstance(node, dict):
            stack.extend((item, depth + 1) for item in node.values())
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)
        elif node is not None:
            found.update(_TOKEN.findall(str(node).lower()))
    return found


def _jaccard(a: set[str], b: set[str]) -> float | None:
    if not a and not b:
        return None
    return len(a & b) / len(a | b)


def _keys_f1(real: Any, fake: Any, real_paths: set[str], fake_paths: set[str]) -> float:
    containers = (isinstance(real, dict | list), isinstance(fake, dict | list))
    if not any(containers):
        return 1.0  # two texts: the same shape
    if not all(containers):
        return 0.0
    real_keys, fake_keys = real_paths - {ROOT}, fake_paths - {ROOT}
    if not real_keys and not fake_keys:
        return 1.0 if type(real) is type(fake) else 0.0
    return 2 * len(real_keys & fake_keys) / (len(real_keys) + len(fake_keys))


def response_text(response: Any) -> str:
    """A response as the text BLEU scores: data as JSON (recorded Python literals too)."""
    data = decode(response)
    if isinstance(data, dict | list):
        return json.dumps(data, ensure_ascii=False)[:MAX_BLEU_CHARS]
    return str(data if data is not None else "")[:MAX_BLEU_CHARS]


def compare(recorded: Reply, simulated: Reply) -> dict[str, float | None]:
    """The four structural measures of one pair (see the module docstring)."""
    failed = (bool(recorded.error), bool(simulated.error))
    result: dict[str, float | None] = {
        "outcome": 1.0 if failed[0] == failed[1] else 0.0,
        "keys": None,
        "types": None,
        "values": None,
    }
    if failed[0]:
        return result
    if failed[1]:
        return result | {"keys": 0.0, "types": 0.0, "values": 0.0}
    real, fake = decode(recorded.response), decode(simulated.response)
    real_paths, fake_paths = key_paths(real), key_paths(fake)
    result["keys"] = _keys_f1(real, fake, set(real_paths), set(fake_paths))
    shared = set(real_paths) & set(fake_paths)
    result["types"] = sum(bool(real_paths[p] & fake_paths[p]) for p in shared) / len(shared)
    result["values"] = _jaccard(tokens(real), tokens(fake))
    return result


# --- BLEU-4 ---------------------------------------------------------------------------

#: Per call: n-gram matches (1-4), n-gram totals (1-4), hypothesis length, reference length.
BleuStats = tuple[tuple[int, ...], tuple[int, ...], int, int]


@functools.cache
def bleu_available() -> bool:
    """Whether the optional ``sacrebleu`` package is installed."""
    try:
        import sacrebleu  # noqa: F401
    except ImportError:
        return False
    return True


@functools.cache
def _scorer() -> Any:
    from sacrebleu.metrics import BLEU

    # Only the statistics are used, never this object's sentence score: effective order
    # only silences sacrebleu's advice about sentence-level scores.
    return BLEU(effective_order=True)


def bleu_stats(recorded: Reply, simulated: Reply) -> BleuStats | None:
    """One pair's BLEU-4 statistics (a simulated error is an empty text), or None when the
    recorded reply failed or sacrebleu is missing."""
    if recorded.error or not bleu_available():
        return None
    hypothesis = "" if simulated.error else response_text(simulated.response)
    score = _scorer().sentence_score(hypothesis, [response_text(recorded.response)])
    return tuple(score.counts), tuple(score.totals), score.sys_len, score.ref_len


def corpus_bleu(stats: Sequence[BleuStats]) -> float | None:
    """Corpus BLEU-4 (0-100) from summed per-call statistics, exactly as sacrebleu's
    ``corpus_score`` computes it; None without statistics."""
    if not stats or not bleu_available():
        return None
    rows = np.array([flat_stats(item) for item in stats], dtype=float)
    return float(bleu_of_sums(rows.sum(axis=0, keepdims=True))[0])


def flat_stats(stats: BleuStats) -> list[int]:
    """One call's statistics as a row: 4 matches, 4 totals, hypothesis and reference length."""
    return [*stats[0], *stats[1], stats[2], stats[3]]


def bleu_of_sums(rows: np.ndarray) -> np.ndarray:
    """BLEU-4 (0-100) of each row of summed statistics (see :func:`flat_stats`), vectorised.

    sacrebleu's ``BLEU.compute_bleu`` with exponential smoothing, written over arrays so
    that a bootstrap's thousands of resamples cost milliseconds (a test checks it gives
    sacrebleu's numbers): precision of order n is matches/total, or with no match
    1/(2^k total) for the k-th such order; an order with no n-gram at all, or no match at
    any order, scores 0; the brevity penalty is exp(1 - ref/hyp) for shorter hypotheses.
    """
    correct, total = rows[:, 0:4], rows[:, 4:8]
    sys_len, ref_len = rows[:, 8], rows[:, 9]
    with np.errstate(divide="ignore", invalid="ignore"):
        bp = np.where(sys_len < ref_len, np.exp(1 - ref_len / np.maximum(sys_len, 1)), 1.0)
        bp = np.where((sys_len < ref_len) & (sys_len <= 0), 0.0, bp)
        halvings = np.cumsum(correct == 0, axis=1)
        precision = np.where(correct > 0, 100.0 * correct / total, 100.0 / (2.0**halvings * total))
        usable = np.cumprod(total > 0, axis=1).astype(bool)  # sacrebleu stops at the first 0
        logs = np.where(usable & (precision > 0), np.log(np.where(usable, precision, 1.0)), -1e10)
    score = bp * np.exp(logs.sum(axis=1) / 4)
    return np.where(correct.sum(axis=1) > 0, score, 0.0)

"""Reference-labelled answers as the learned judge trains on them, and the known-verdict table.

An :class:`Example` is one answer of a pass-rate result file with its reference
labels and its features computed once (cross-validation refits often).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from toolsim.answers import Answer, load_answer_sets, query_order
from toolsim.errors import UserError
from toolsim.evaluator.judging.learned.features import answer_features, answer_words
from toolsim.evaluator.judging.learned.known import NO_MAJORITY, answer_key
from toolsim.evaluator.labels import SCORES
from toolsim.evaluator.statistics import majority


@dataclass(frozen=True, slots=True)
class Example:
    """One reference-labelled answer."""

    answer: Answer
    #: The share of reference runs that said Solved (Unsure counts half).
    soft: float
    majority: str | None
    key: str
    #: :func:`answer_features` of the answer, computed once (cross-validation refits often).
    features: tuple[float, ...]
    words: frozenset[str]


def load_examples(paths: Sequence[Path]) -> list[Example]:
    """Every answer with reference labels under ``paths`` (pass-rate result files).

    Raises:
        UserError: a path holds no answer with reference labels.
    """
    examples = []
    for path in paths:
        found = 0
        for answer_set in load_answer_sets(Path(path)):
            for query_id in sorted(answer_set.answers, key=query_order):
                answer = answer_set.answers[query_id]
                if not answer.reference:
                    continue
                found += 1
                soft = sum(SCORES[label] for label in answer.reference) / len(answer.reference)
                examples.append(
                    Example(
                        answer=answer,
                        soft=soft,
                        majority=majority(answer.reference),
                        key=answer_key(answer),
                        features=tuple(answer_features(answer)),
                        words=frozenset(answer_words(answer)),
                    )
                )
        if not found:
            raise UserError(
                f"{path}: no reference labels (expected pass-rate result files with 'is_solved')"
            )
    return examples


def known_verdicts(examples: Iterable[Example]) -> dict[str, str]:
    """The majority label of every answered training answer, pooling the runs of duplicates
    (:data:`NO_MAJORITY` when they have none). Answers the rules decide (never
    finished) are left out: the model never trains on them."""
    runs: dict[str, list[str]] = {}
    for example in examples:
        if example.answer.finished:
            runs.setdefault(example.key, []).extend(example.answer.reference)
    return {key: majority(labels) or NO_MAJORITY for key, labels in runs.items()}

"""Train the learned judge from reference-labelled answers, and measure it honestly.

:func:`fit` turns labelled answers into a LightGBM model (text format) that is
the same bit for bit on every run: one thread, ``deterministic=True``, fixed
seeds, features in a fixed order. :func:`cross_validate` reports agreement on
folds the model never trained on: by held-out method (each agent method in
turn) and by held-out query (group k-fold over query texts), with the known
verdicts of the training folds applied first, as in use.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from toolsim.errors import UserError
from toolsim.evaluator.judging.learned.examples import Example, known_verdicts, load_examples
from toolsim.evaluator.judging.learned.features import (
    feature_names,
    row,
    vocabulary,
)
from toolsim.evaluator.judging.learned.files import JudgeFiles, model_hash, write_judge_files
from toolsim.evaluator.judging.learned.known import NO_MAJORITY
from toolsim.evaluator.judging.learned.verdicts import label_of
from toolsim.evaluator.labels import SCORES
from toolsim.evaluator.statistics import Agreement, agreement, spearman

#: A word becomes a feature when the answers to this many different queries use it.
MIN_QUERIES = 40
ROUNDS = 150
QUERY_FOLDS = 5
#: Fixed up front, never searched on the evaluation folds.
PARAMS: dict[str, Any] = {
    "objective": "cross_entropy",  # soft labels: the share of reference runs that said Solved
    "learning_rate": 0.1,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "seed": 7,
    "deterministic": True,
    "num_threads": 1,
    "force_row_wise": True,
    "verbose": -1,
}
#: Directions the probability may only move in as a feature grows: what an answer says
#: about failing can only lower it, how much of the query it answers can only raise it.
DECREASING = (
    "answer_apologies",
    "answer_inability",
    "answer_negative_sentences_frac",
    "answer_first_sentence_negative",
    "answer_negative_chars_frac",
    "answer_last_sentence_negative",
    "answer_placeholders",
    "answer_future",
    "failed_calls_unacknowledged",
    "query_sentences_without_useful_call",
    "query_sentences_without_useful_call_frac",
)
INCREASING = (
    "query_parts_in_positive_frac",
    "query_sentences_in_positive_mean",
    "query_sentences_in_positive_min",
    "query_words_in_answer_frac",
    "query_parts_in_answer_frac",
)

Progress = Callable[[str], None]


def _constraints(names: Sequence[str]) -> list[int]:
    return [-1 if name in DECREASING else 1 if name in INCREASING else 0 for name in names]


def fit(examples: Sequence[Example]) -> str:
    """The LightGBM model (text) trained on the finished answers among ``examples``."""
    import lightgbm

    finished = [example for example in examples if example.answer.finished]
    if len(finished) < 50:
        raise UserError(f"too few answered, labelled answers to train on ({len(finished)})")
    vocab = vocabulary(((example.answer.query, example.words) for example in finished), MIN_QUERIES)
    names = feature_names(vocab)
    rows = np.array([row(example.features, example.words, vocab) for example in finished])
    labels = np.array([example.soft for example in finished])
    params = {**PARAMS, "monotone_constraints": _constraints(names)}
    data = lightgbm.Dataset(rows, labels, feature_name=names, free_raw_data=True)
    booster = lightgbm.train(params, data, num_boost_round=ROUNDS)
    return booster.model_to_string()


@dataclass(frozen=True, slots=True)
class Split:
    """Cross-validated agreement for one way of holding data out."""

    name: str
    folds: int
    all: Agreement
    answered: Agreement
    #: Answered items with no identical answer in the training folds.
    novel: Agreement
    #: Per system (method): pass rate judged vs the reference's, and their rank correlation.
    pass_rates: dict[str, tuple[float, float]]
    spearman: float | None

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON form for the model card."""
        return {
            "folds": self.folds,
            "all": self.all.to_json(),
            "answered": self.answered.to_json(),
            "novel": self.novel.to_json(),
            "pass_rates": {
                name: {"judged": round(judged, 4), "reference": round(reference, 4)}
                for name, (judged, reference) in self.pass_rates.items()
            },
            "spearman": None if self.spearman is None else round(self.spearman, 4),
        }


def query_folds(examples: Sequence[Example], folds: int = QUERY_FOLDS) -> list[int]:
    """A fold per example so that every answer to one query text lands in the same fold."""
    texts = sorted(
        {example.answer.query for example in examples},
        key=lambda text: hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )
    fold_of = {text: index % folds for index, text in enumerate(texts)}
    return [fold_of[example.answer.query] for example in examples]


def _predict_examples(model_text: str, examples: Sequence[Example]) -> list[float]:
    import lightgbm

    from toolsim.evaluator.judging.learned.features import vocabulary_of

    booster = lightgbm.Booster(model_str=model_text)
    vocab = vocabulary_of(booster.feature_name())
    rows = np.array([row(e.features, e.words, vocab) for e in examples])
    return [float(value) for value in booster.predict(rows)]


def _held_out_labels(
    examples: Sequence[Example], folds: Sequence[Any], progress: Progress | None
) -> tuple[list[str], list[bool]]:
    """Every example's label from a model (and known verdicts) that never saw its fold."""
    labels = ["Unsolved"] * len(examples)  # unfinished answers: Unsolved by rule
    known_flags = [False] * len(examples)
    for fold in sorted(set(folds), key=str):
        train = [e for e, f in zip(examples, folds, strict=True) if f != fold]
        test = [i for i, f in enumerate(folds) if f == fold and examples[i].answer.finished]
        if progress is not None:
            progress(f"fold {fold}: {len(train)} training answers, {len(test)} held out")
        table = known_verdicts(train)
        probabilities = _predict_examples(fit(train), [examples[i] for i in test])
        for index, probability in zip(test, probabilities, strict=True):
            known = table.get(examples[index].key)
            if known == NO_MAJORITY:
                known = None
            known_flags[index] = known is not None
            labels[index] = known if known is not None else label_of(probability)
    return labels, known_flags


def _split(
    name: str,
    examples: Sequence[Example],
    folds: Sequence[Any],
    progress: Progress | None,
) -> Split:
    labels, known = _held_out_labels(examples, folds, progress)
    scored = [i for i, e in enumerate(examples) if e.majority in ("Solved", "Unsolved")]
    answered = [i for i in scored if examples[i].answer.finished]
    novel = [i for i in answered if not known[i]]

    def agree(indices: list[int]) -> Agreement:
        return agreement(
            [examples[i].majority or "" for i in indices], [labels[i] for i in indices]
        )

    systems: dict[str, list[int]] = {}
    for index, example in enumerate(examples):
        systems.setdefault(example.answer.method, []).append(index)
    rates = {
        system: (
            100 * sum(SCORES.get(labels[i], 0.0) for i in indices) / len(indices),
            100 * sum(examples[i].soft for i in indices) / len(indices),
        )
        for system, indices in sorted(systems.items())
    }
    judged, reference = zip(*rates.values(), strict=True) if rates else ((), ())
    return Split(
        name=name,
        folds=len(set(folds)),
        all=agree(scored),
        answered=agree(answered),
        novel=agree(novel),
        pass_rates=rates,
        spearman=spearman(list(judged), list(reference)),
    )


def cross_validate(
    examples: Sequence[Example], *, progress: Progress | None = None
) -> dict[str, Split]:
    """Agreement by held-out method (one fold per method) and by held-out query."""
    methods = [example.answer.method for example in examples]
    result = {}
    if len(set(methods)) >= 2:
        result["method"] = _split("method", examples, methods, progress)
    result["query"] = _split("query", examples, query_folds(examples), progress)
    return result


@dataclass(frozen=True, slots=True)
class Trained:
    """What :func:`train_judge` wrote."""

    files: list[Path]
    card: dict[str, Any]


def build_card(
    examples: Sequence[Example],
    model_text: str,
    known: dict[str, str],
    splits: dict[str, Split],
    reference: str,
) -> dict[str, Any]:
    """The model card: training data, settings, model hash, cross-validated agreement."""
    import lightgbm

    from toolsim.evaluator.judging.learned.features import FEATURES, vocabulary_of
    from toolsim.evaluator.judging.learned.verdicts import UNSURE_BAND

    systems: dict[str, int] = {}
    for example in examples:
        systems[example.answer.method] = systems.get(example.answer.method, 0) + 1
    names = lightgbm.Booster(model_str=model_text).feature_name()
    return {
        "format": 1,
        "reference": reference,
        "lightgbm": lightgbm.__version__,
        "model_sha256": model_hash(model_text),
        "training": {
            "systems": systems,
            "answers": len(examples),
            "answered": sum(example.answer.finished for example in examples),
            "known_answers": len(known),
        },
        "features": {"answer": len(FEATURES), "words": len(vocabulary_of(names))},
        "params": {**PARAMS, "rounds": ROUNDS, "min_queries": MIN_QUERIES},
        "unsure_band": list(UNSURE_BAND),
        "cross_validation": {name: split.to_json() for name, split in splits.items()},
    }


def train_judge(
    paths: Sequence[Path],
    out: Path,
    *,
    cv: bool = True,
    reference: str = "the training labels' majority",
    progress: Progress | None = None,
) -> Trained:
    """Train on the labelled answers under ``paths`` and write the judge's files to ``out``.

    The same labels always give the same ``model.txt``, byte for byte.
    """
    from toolsim.evaluator.judging.learned.known import dump_known

    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot write the judge to {out}: {exc.strerror or exc}") from None
    examples = load_examples(paths)
    if progress is not None:
        progress(f"{len(examples)} labelled answers; training")
    model_text = fit(examples)
    known = known_verdicts(examples)
    splits = cross_validate(examples, progress=progress) if cv else {}
    card = build_card(examples, model_text, known, splits, reference)
    files = JudgeFiles(
        model=model_text,
        known=dump_known(known),
        card=json.dumps(card, indent=2, sort_keys=True) + "\n",
    )
    return Trained(write_judge_files(out, files), card)

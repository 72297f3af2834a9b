"""Train the learned judge from reference-labelled answers, and measure it honestly.

:func:`fit` turns labelled answers into a LightGBM model (text format) that is
the same bit for bit on every run: one thread, ``deterministic=True``, fixed
seeds, features in a fixed order. Besides the labelled answers it learns from
probes (:mod:`toolsim.evaluator.judging.probes`) built from the training
answers the reference called Solved, labelled Unsolved: the same answers made
to do nothing, so the model learns that an answer must rest on its tool replies.

The protocol (:mod:`toolsim.evaluator.judging.learned.protocol`): features and settings
were chosen on the design methods only; :func:`cross_validate` reports
agreement on folds the model never trained on, by held-out method (each design
method in turn) and by held-out query (group k-fold over query texts), with the
known verdicts of the training folds and the grounding rule applied first, as
in use. :func:`final_test` measures a model trained on the design methods alone
on the frozen final-test methods, beside the one-line rule on the same items.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from toolsim.answers import Answer
from toolsim.errors import UserError
from toolsim.evaluator.judging.learned.examples import (
    Example,
    known_verdicts,
    load_examples,
    to_example,
)
from toolsim.evaluator.judging.learned.features import (
    feature_names,
    row,
    vocabulary,
)
from toolsim.evaluator.judging.learned.files import JudgeFiles, model_hash, write_judge_files
from toolsim.evaluator.judging.learned.known import NO_MAJORITY
from toolsim.evaluator.judging.learned.protocol import FINAL_TEST_METHODS, is_final_test
from toolsim.evaluator.judging.learned.verdicts import label_of
from toolsim.evaluator.judging.probes import KINDS, probes
from toolsim.evaluator.labels import SCORES
from toolsim.evaluator.statistics import Agreement, Ranking, agreement, ranking

#: A word becomes a feature when the answers to this many different queries use it.
MIN_QUERIES = 40
ROUNDS = 300
QUERY_FOLDS = 5
#: Every n-th probe of each kind joins the training answers (labelled Unsolved).
PROBE_EVERY = 4
#: Chosen on the design methods' cross-validation (never on the final test).
PARAMS: dict[str, Any] = {
    "objective": "cross_entropy",  # soft labels: the share of reference runs that said Solved
    "learning_rate": 0.05,
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


def solved(examples: Sequence[Example]) -> list[Answer]:
    """The finished answers every reference run called Solved."""
    return [
        e.answer
        for e in examples
        if e.answer.finished and e.answer.reference and set(e.answer.reference) == {"Solved"}
    ]


def probe_examples(examples: Sequence[Example]) -> list[Example]:
    """Every :data:`PROBE_EVERY`-th probe of each kind built from the Solved answers among
    ``examples``, labelled Unsolved (soft 0)."""
    built = probes(solved(examples))
    return [
        to_example(answer, 0.0, ("Unsolved",))
        for kind in KINDS
        for answer in built[kind][::PROBE_EVERY]
    ]


def fit(examples: Sequence[Example]) -> str:
    """The LightGBM model (text) trained on the finished answers among ``examples`` and
    on probes built from them (:func:`probe_examples`)."""
    import lightgbm

    finished = [example for example in examples if example.answer.finished]
    if len(finished) < 50:
        raise UserError(f"too few answered, labelled answers to train on ({len(finished)})")
    vocab = vocabulary(((example.answer.query, example.words) for example in finished), MIN_QUERIES)
    names = feature_names(vocab)
    learned = [*finished, *probe_examples(finished)]
    rows = np.array([row(example.features, example.words, vocab) for example in learned])
    labels = np.array([example.soft for example in learned])
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
    #: Pass rates judged vs the reference's, per system (method) and per system x group.
    ranking: Ranking

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON form for the model card."""
        return {
            "folds": self.folds,
            "all": self.all.to_json(),
            "answered": self.answered.to_json(),
            "novel": self.novel.to_json(),
            "ranking": self.ranking.to_json(),
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


def judged_labels(
    model_text: str, table: dict[str, str], examples: Sequence[Example]
) -> tuple[list[str], list[bool]]:
    """Each example's label as the learned judge gives it (unfinished: Unsolved by rule;
    then a known verdict; then the grounding rule; then the model), and whether it was known."""
    labels = ["Unsolved"] * len(examples)
    known_flags = [False] * len(examples)
    finished = [i for i, e in enumerate(examples) if e.answer.finished]
    probabilities = _predict_examples(model_text, [examples[i] for i in finished])
    for index, probability in zip(finished, probabilities, strict=True):
        known = table.get(examples[index].key)
        if known == NO_MAJORITY:
            known = None
        known_flags[index] = known is not None
        if known is not None:
            labels[index] = known
        elif examples[index].nothing is not None:
            labels[index] = "Unsolved"
        else:
            labels[index] = label_of(probability)
    return labels, known_flags


def _held_out_labels(
    examples: Sequence[Example], folds: Sequence[Any], progress: Progress | None
) -> tuple[list[str], list[bool]]:
    """Every example's label from a model (and known verdicts) that never saw its fold."""
    labels = ["Unsolved"] * len(examples)
    known_flags = [False] * len(examples)
    for fold in sorted(set(folds), key=str):
        train = [e for e, f in zip(examples, folds, strict=True) if f != fold]
        test = [i for i, f in enumerate(folds) if f == fold]
        if progress is not None:
            progress(f"fold {fold}: {len(train)} training answers, {len(test)} held out")
        fold_labels, fold_known = judged_labels(
            fit(train), known_verdicts(train), [examples[i] for i in test]
        )
        for index, label, known in zip(test, fold_labels, fold_known, strict=True):
            labels[index], known_flags[index] = label, known
    return labels, known_flags


def _split(
    name: str,
    examples: Sequence[Example],
    folds: Sequence[Any],
    progress: Progress | None,
) -> Split:
    labels, known = _held_out_labels(examples, folds, progress)
    return measured(name, len(set(folds)), examples, labels, known)


def measured(
    name: str, folds: int, examples: Sequence[Example], labels: Sequence[str], known: Sequence[bool]
) -> Split:
    """Agreement and ranking of ``labels`` (one per example) with the reference."""
    scored = [i for i, e in enumerate(examples) if e.majority in ("Solved", "Unsolved")]
    answered = [i for i in scored if examples[i].answer.finished]
    novel = [i for i in answered if not known[i]]

    def agree(indices: list[int]) -> Agreement:
        return agreement(
            [examples[i].majority or "" for i in indices], [labels[i] for i in indices]
        )

    scores = [
        (e.answer.method, e.answer.group, SCORES.get(label, 0.0), e.soft)
        for e, label in zip(examples, labels, strict=True)
    ]
    return Split(
        name=name,
        folds=folds,
        all=agree(scored),
        answered=agree(answered),
        novel=agree(novel),
        ranking=ranking(scores),
    )


def design(examples: Sequence[Example]) -> list[Example]:
    """The examples of the design methods (every method but the frozen final test)."""
    return [example for example in examples if not is_final_test(example.answer.method)]


def cross_validate(
    examples: Sequence[Example], *, progress: Progress | None = None
) -> dict[str, Split]:
    """Agreement by held-out method (one fold per method) and by held-out query, over the
    design methods only: the final test's answers take no part."""
    examples = design(examples)
    methods = [example.answer.method for example in examples]
    result = {}
    if len(set(methods)) >= 2:
        result["method"] = _split("method", examples, methods, progress)
    result["query"] = _split("query", examples, query_folds(examples), progress)
    return result


@dataclass(frozen=True, slots=True)
class FinalTest:
    """The frozen final test: a judge trained on the design methods alone, and the rule."""

    methods: tuple[str, ...]
    judge: Split
    rule: Split
    #: Per probe kind: (probes judged Solved, probes); and real unanimous-Solved kept Solved.
    probes: dict[str, tuple[int, int]]
    solved_kept: tuple[int, int]

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON form for the model card."""
        return {
            "methods": list(self.methods),
            "learned": self.judge.to_json(),
            "rule": self.rule.to_json(),
            "probes_judged_solved": {
                kind: {"solved": hit, "n": n} for kind, (hit, n) in self.probes.items()
            },
            "reference_solved_kept": {"solved": self.solved_kept[0], "n": self.solved_kept[1]},
        }


def final_test(examples: Sequence[Example], *, progress: Progress | None = None) -> FinalTest:
    """The learned judge trained on the design methods, measured once on the final test
    (known verdicts from the design methods only), beside the rule on the same items."""
    from toolsim.evaluator.judging.rule import rule_label

    train = design(examples)
    test = [example for example in examples if is_final_test(example.answer.method)]
    if not train or not test:
        raise UserError("the final test needs both design and final-test methods' labels")
    if progress is not None:
        progress(f"final test: {len(train)} design answers, {len(test)} final-test answers")
    model_text = fit(train)
    labels, known = judged_labels(model_text, known_verdicts(train), test)
    rules = [rule_label(example.answer) for example in test]
    built = probes(solved(test))
    probe_hits = {}
    for kind in KINDS:
        probe_labels, _ = judged_labels(
            model_text, {}, [to_example(answer, 0.0) for answer in built[kind]]
        )
        probe_hits[kind] = (probe_labels.count("Solved"), len(probe_labels))
    unanimous = [
        label
        for e, label in zip(test, labels, strict=True)
        if e.answer.finished and set(e.answer.reference) == {"Solved"}
    ]
    methods = tuple(sorted({example.answer.method for example in test}))
    return FinalTest(
        methods=methods,
        judge=measured("final test", 1, test, labels, known),
        rule=measured("final test (rule)", 1, test, rules, [False] * len(test)),
        probes=probe_hits,
        solved_kept=(unanimous.count("Solved"), len(unanimous)),
    )


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
    final: FinalTest | None = None,
) -> dict[str, Any]:
    """The model card: training data, settings, model hash, cross-validated agreement and
    the final test."""
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
        "params": {
            **PARAMS,
            "rounds": ROUNDS,
            "min_queries": MIN_QUERIES,
            "probe_every": PROBE_EVERY,
        },
        "unsure_band": list(UNSURE_BAND),
        "protocol": {
            "final_test_methods": list(FINAL_TEST_METHODS),
            "design_methods": sorted({e.answer.method for e in design(examples)}),
            "note": "features and settings chosen on the design methods' cross-validation; "
            "the final test measures a model trained on the design methods alone "
            "(the shipped model then learns from every method with the same settings)",
        },
        "cross_validation": {name: split.to_json() for name, split in splits.items()},
        "final_test": None if final is None else final.to_json(),
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
    methods = {example.answer.method for example in examples}
    testable = cv and methods & set(FINAL_TEST_METHODS) and methods - set(FINAL_TEST_METHODS)
    final = final_test(examples, progress=progress) if testable else None
    card = build_card(examples, model_text, known, splits, reference, final)
    files = JudgeFiles(
        model=model_text,
        known=dump_known(known),
        card=json.dumps(card, indent=2, sort_keys=True) + "\n",
    )
    return Trained(write_judge_files(out, files), card)

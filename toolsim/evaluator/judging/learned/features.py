"""Cheap features of one answer for the learned judge, from toolsim's normalised :class:`Answer`.

Everything here reads only the query, the final answer and each tool call's
name, arguments and reply, so any answer format toolsim reads gets the same
features. None of them names a query, a tool or a method: the judge has to
work on queries and agents it never saw.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import fields

from toolsim.answers import Answer
from toolsim.evaluator.judging.grounding import (
    APOLOGY,
    ASK,
    DEFLECT,
    INABILITY,
    MORE,
    STOP,
    Evidence,
    Reading,
    content,
    evidence,
    name_words,
    numbers,
    read,
)
from toolsim.runs import FINISH

_QUOTED = re.compile(r"""['"“‘]([^'"”’]{2,60})['"”’]""")
#: As grounding's: capitalised words not opening the text or a sentence, written to open on
#: the capital (the same matches as ``(?<![.?!]\s)(?<!^)\b[A-Z][a-zA-Z0-9&-]{2,}``, faster).
_CAPITALISED = re.compile(r"[A-Z](?<=\W[A-Z])(?<![.?!]\s[A-Z])[a-zA-Z0-9&-]{2,}")
_FUTURE = re.compile(r"\b(i will|i'll|let me|i am going to|i'm going to|next,? i)\b")

_ANSWER_FEATURES = (
    "answer_chars_log",
    "answer_words",
    "answer_sentences",
    "answer_newlines",
    "answer_numbers",
    "answer_numbers_in_replies",
    "answer_numbers_in_replies_frac",
    "answer_words_in_replies_frac",
    "answer_new_words_frac",
    "answer_new_grounded_words",
    "answer_apologies",
    "answer_inability",
    "answer_deflections",
    "answer_future",
    "answer_questions",
    "answer_urls",
    "answer_mentions_function",
    "answer_repeats_query_frac",
    "answer_negative_sentences_frac",
    "answer_first_sentence_negative",
    "answer_list_items",
    "answer_truncated",
    "answer_placeholders",
    "answer_capitalised",
    "answer_capitalised_grounded_frac",
    "query_parts",
    "query_parts_in_answer_frac",
    "query_sentences_in_answer_mean",
    "query_sentences_in_answer_min",
    "calls_describing_api",
    "answer_however",
    "answer_negative_chars_frac",
    "answer_last_sentence_negative",
    "query_parts_in_positive_frac",
    "query_sentences_in_positive_mean",
    "query_sentences_in_positive_min",
    "query_sentences_without_useful_call",
    "query_sentences_without_useful_call_frac",
    "useful_calls_reflected",
    "useful_calls_unreflected",
    "failed_calls_unacknowledged",
    "query_chars_log",
    "query_words",
    "query_asks",
    "query_more",
    "query_questions",
    "query_numbers",
    "query_numbers_in_answer_frac",
    "query_words_in_answer_frac",
    "query_entities",
    "query_entities_in_answer_frac",
    "query_entities_in_arguments_frac",
    "query_sentences_covered_frac",
    "query_sentences_uncovered",
    "query_words_in_function_names_frac",
    "calls",
    "distinct_functions",
    "max_calls_one_function",
    "repeated_calls",
    "calls_with_error",
    "calls_with_failure_reply",
    "calls_with_empty_reply",
    "calls_useful",
    "calls_useful_frac",
    "last_call_failed",
    "empty_arguments",
    "replies_chars_log",
    "useful_reply_chars_log",
    "tools_offered",
    "tools_used_frac",
)
#: The grounding signals (:class:`~toolsim.evaluator.judging.grounding.Evidence`) as features.
_EVIDENCE_FIELDS = tuple(field.name for field in fields(Evidence))
GROUNDING_FEATURES: tuple[str, ...] = tuple(
    f"grounding_{name}"
    for name in (
        *_EVIDENCE_FIELDS,
        "facts_grounded_frac",
        "facts_ungrounded_frac",
        "requests_called_frac",
        "requests_answered_frac",
        "words_new_grounded_frac",
        "calls_ok_frac",
    )
)
FEATURES: tuple[str, ...] = (*_ANSWER_FEATURES, *GROUNDING_FEATURES)


def _fraction(part: int, whole: int) -> float:
    return part / whole if whole else -1.0


def _log(value: float) -> float:
    return math.log1p(max(value, 0.0))


def _covered(sentence: set[str], seen: AbstractSet[str]) -> bool:
    if not sentence:
        return True
    return len(sentence & seen) / len(sentence) >= 0.34


def _query_sentences(sentences: list[str]) -> list[set[str]]:
    """The content words of each request sentence (:func:`grounding.asked`) that has any."""
    return [words_ for sentence in sentences if (words_ := content(sentence))]


_LIST_LINE = re.compile(r"(?m)^\s*(?:[-*\u2022]|\d+[.)])\s+")
_TRUNCATED = re.compile(r"(\.\.\.|\u2026|\band more\b|\betc\b|\band others\b)")
_DESCRIBES = re.compile(r"^\W*(?:the|this)\b.{0,120}\b(?:api|endpoint|function|tool)\b")
_PLACEHOLDER = re.compile(
    r"(your_|\[[a-z ]*(?:image|link|url|code)[a-z ]*\]|<[a-z_ ]+>|placeholder)"
)
_HOWEVER = re.compile(r"\b(however|but|although|while)\b")


def _sentence_coverage(sentences: list[set[str]], seen: AbstractSet[str]) -> tuple[float, float]:
    """The mean and the smallest share of each sentence's stems found in ``seen``."""
    if not sentences:
        return -1.0, -1.0
    shares = [len(sentence & seen) / len(sentence) for sentence in sentences]
    return sum(shares) / len(shares), min(shares)


def _shares_two(stems: set[str] | frozenset[str], text: str) -> bool:
    """Whether at least two of ``stems`` are content words of ``text`` (lower-cased); a
    substring check first spares tokenising most replies."""
    if sum(stem_ in text for stem_ in stems) < 2:
        return False
    return len(stems & content(text)) >= 2


def _scout(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` without its word boundaries: it matches wherever ``pattern`` does (only
    an assertion is dropped), and as its alternatives all open on a character, ``re`` jumps
    from one possible first character to the next instead of trying the whole pattern at
    every position (2 to 3 times faster on a final answer)."""
    return re.compile(pattern.pattern.replace(r"\b", ""))


#: Scouts of the phrase patterns most answers do not contain (for the others a scout costs
#: more than it spares): no scout match, no match.
_SCOUTS = {pattern: _scout(pattern) for pattern in (APOLOGY, MORE, _FUTURE, _TRUNCATED, _HOWEVER)}


def _count(pattern: re.Pattern[str], text: str) -> int:
    scout = _SCOUTS.get(pattern)
    if scout is not None and scout.search(text) is None:
        return 0
    return len(pattern.findall(text))


def grounding_features(signals: Evidence) -> list[float]:
    """The :data:`GROUNDING_FEATURES` of one answer's grounding signals, in order."""
    return [
        *(float(getattr(signals, name)) for name in _EVIDENCE_FIELDS),
        _fraction(signals.facts_grounded, signals.facts),
        _fraction(signals.facts_ungrounded, signals.facts),
        _fraction(signals.requests_called, signals.requests),
        _fraction(signals.requests_answered, signals.requests),
        _fraction(signals.words_new_grounded, signals.words_new),
        _fraction(signals.calls_ok, signals.calls),
    ]


def answer_features(
    answer: Answer, reading: Reading | None = None, signals: Evidence | None = None
) -> list[float]:
    """The :data:`FEATURES` of one answer, in order (``reading`` and ``signals``: its
    :func:`~toolsim.evaluator.judging.grounding.read` and evidence, when at hand)."""
    reading = reading or read(answer)
    query = answer.query
    final = answer.final_answer
    final_lower = final.lower()
    query_lower = query.lower()
    steps = answer.steps

    bodies, statuses = reading.bodies, reading.statuses
    useful = [
        body
        for body, (error, failure, empty) in zip(bodies, statuses, strict=True)
        if not (error or failure or empty)
    ]
    reply_words = reading.reply_words
    reply_numbers = reading.reply_numbers
    arguments_text = " ".join(step.arguments for step in steps).lower()

    answer_words_ = reading.answer_tokens
    answer_content = reading.answer_words
    query_content = reading.query_words
    answer_numbers = numbers(final)
    query_numbers = numbers(query)
    new_words = answer_content - query_content
    entities = {m.lower() for m in _QUOTED.findall(query)} | {
        m.lower() for m in _CAPITALISED.findall(query)
    }
    entities = {entity for entity in entities if entity not in STOP}

    called = [step.function for step in steps]
    per_function = Counter(called)
    calls_seen = Counter((step.function, step.arguments.strip()) for step in steps)
    function_words: set[str] = set()
    for name in per_function:
        function_words |= name_words(name)
    offered = [
        str(tool.get("name", ""))
        for tool in answer.available_tools
        if str(tool.get("name", "")) not in ("", FINISH)
    ]

    sentences = _query_sentences(list(reading.requests))
    seen = answer_content | function_words
    covered = sum(_covered(sentence, seen) for sentence in sentences)

    answer_sentences = reading.sentences
    negative = reading.hedges
    capitalised = {m.lower() for m in _CAPITALISED.findall(final)} - STOP
    replies_lower = reading.replies
    parts = reading.items
    mean_share, min_share = _sentence_coverage(sentences, answer_content)

    positive: set[str] = set()
    for part_words, bad in zip(reading.sentence_words, negative, strict=True):
        if not bad:
            positive |= part_words
    negative_chars = sum(len(p) for p, bad in zip(answer_sentences, negative, strict=True) if bad)
    positive_mean, positive_min = _sentence_coverage(sentences, positive)

    useful_names: list[set[str]] = []
    reflected = 0
    asked_new = answer_content - query_content
    for step, body, (error, failure, empty) in zip(steps, bodies, statuses, strict=True):
        if error or failure or empty:
            continue
        useful_names.append(name_words(step.function))
        if _shares_two(asked_new, body[:4000].lower()):
            reflected += 1
    without_call = sum(not any(sentence & name for name in useful_names) for sentence in sentences)
    failed_calls = len(steps) - len(useful)

    values: dict[str, float] = {
        "query_sentences_without_useful_call": without_call,
        "query_sentences_without_useful_call_frac": _fraction(without_call, len(sentences)),
        "useful_calls_reflected": reflected,
        "useful_calls_unreflected": len(useful) - reflected,
        "failed_calls_unacknowledged": failed_calls if not any(negative) else 0,
        "answer_however": _count(_HOWEVER, final_lower),
        "answer_negative_chars_frac": _fraction(negative_chars, len(final)),
        "answer_last_sentence_negative": float(negative[-1]) if negative else -1.0,
        "query_parts_in_positive_frac": _fraction(
            sum(bool(part & positive) for part in parts), len(parts)
        ),
        "query_sentences_in_positive_mean": positive_mean,
        "query_sentences_in_positive_min": positive_min,
        "answer_negative_sentences_frac": _fraction(sum(negative), len(negative)),
        "answer_first_sentence_negative": float(negative[0]) if negative else -1.0,
        "answer_list_items": len(_LIST_LINE.findall(final)),
        "answer_truncated": _count(_TRUNCATED, final_lower),
        "answer_placeholders": _count(_PLACEHOLDER, final_lower),
        "answer_capitalised": len(capitalised),
        "answer_capitalised_grounded_frac": _fraction(
            sum(word in replies_lower for word in capitalised), len(capitalised)
        ),
        "query_parts": len(parts),
        "query_parts_in_answer_frac": _fraction(
            sum(bool(part & answer_content) for part in parts), len(parts)
        ),
        "query_sentences_in_answer_mean": mean_share,
        "query_sentences_in_answer_min": min_share,
        "calls_describing_api": sum(bool(_DESCRIBES.search(body[:200].lower())) for body in useful),
        "answer_chars_log": _log(len(final)),
        "answer_words": len(answer_words_),
        "answer_sentences": len(answer_sentences),
        "answer_newlines": final.count("\n"),
        "answer_numbers": len(answer_numbers),
        "answer_numbers_in_replies": len(answer_numbers & reply_numbers),
        "answer_numbers_in_replies_frac": _fraction(
            len(answer_numbers & reply_numbers), len(answer_numbers)
        ),
        "answer_words_in_replies_frac": _fraction(
            len(answer_content & reply_words), len(answer_content)
        ),
        "answer_new_words_frac": _fraction(len(new_words), len(answer_content)),
        "answer_new_grounded_words": len(new_words & reply_words),
        "answer_apologies": _count(APOLOGY, final_lower),
        "answer_inability": _count(INABILITY, final_lower),
        "answer_deflections": _count(DEFLECT, final_lower),
        "answer_future": _count(_FUTURE, final_lower),
        "answer_questions": final.count("?"),
        "answer_urls": final_lower.count("http"),
        "answer_mentions_function": float(any(name.lower() in final_lower for name in called)),
        "answer_repeats_query_frac": _fraction(
            len(answer_content & query_content), len(answer_content)
        ),
        "query_chars_log": _log(len(query)),
        "query_words": len(reading.query_tokens),
        "query_asks": _count(ASK, query_lower),
        "query_more": _count(MORE, query_lower),
        "query_questions": query.count("?"),
        "query_numbers": len(query_numbers),
        "query_numbers_in_answer_frac": _fraction(
            len(query_numbers & answer_numbers), len(query_numbers)
        ),
        "query_words_in_answer_frac": _fraction(
            len(query_content & answer_content), len(query_content)
        ),
        "query_entities": len(entities),
        "query_entities_in_answer_frac": _fraction(
            sum(entity in final_lower for entity in entities), len(entities)
        ),
        "query_entities_in_arguments_frac": _fraction(
            sum(entity in arguments_text for entity in entities), len(entities)
        ),
        "query_sentences_covered_frac": _fraction(covered, len(sentences)),
        "query_sentences_uncovered": len(sentences) - covered,
        "query_words_in_function_names_frac": _fraction(
            len(query_content & function_words), len(query_content)
        ),
        "calls": len(steps),
        "distinct_functions": len(per_function),
        "max_calls_one_function": max(per_function.values(), default=0),
        "repeated_calls": sum(count - 1 for count in calls_seen.values()),
        "calls_with_error": sum(error for error, _, _ in statuses),
        "calls_with_failure_reply": sum(failure for _, failure, _ in statuses),
        "calls_with_empty_reply": sum(empty for _, _, empty in statuses),
        "calls_useful": len(useful),
        "calls_useful_frac": _fraction(len(useful), len(steps)),
        "last_call_failed": float(any(statuses[-1])) if statuses else -1.0,
        "empty_arguments": sum(step.arguments.strip() in ("", "{}") for step in steps),
        "replies_chars_log": _log(sum(len(body) for body in bodies)),
        "useful_reply_chars_log": _log(sum(len(body) for body in useful)),
        "tools_offered": len(offered),
        "tools_used_frac": _fraction(len(set(called) & set(offered)), len(offered)),
    }
    grounded = grounding_features(signals or evidence(answer, reading))
    return [*(float(values[name]) for name in _ANSWER_FEATURES), *grounded]


#: Word features are named ``WORD_PREFIX + word``: the model file carries its vocabulary.
WORD_PREFIX = "w_"
_ANSWER_WORD = re.compile(r"[a-z']+")


def answer_words(answer: Answer) -> set[str]:
    """The distinct lower-case words of the final answer."""
    return set(_ANSWER_WORD.findall(answer.final_answer.lower()))


def vocabulary(answers: Iterable[tuple[str, Iterable[str]]], min_queries: int) -> list[str]:
    """Words found in the answers to at least ``min_queries`` different queries, sorted.

    ``answers`` gives each answer's query and its :func:`answer_words`. Only words
    that recur across many queries qualify ("sorry", "here", "found"), so the judge
    learns how answers are phrased, not what a given query is about.
    """
    seen: dict[str, set[str]] = {}
    for query, answer_words_ in answers:
        for word in answer_words_:
            seen.setdefault(word, set()).add(query)
    return sorted(word for word, queries in seen.items() if len(queries) >= min_queries)


def feature_names(vocab: Iterable[str]) -> list[str]:
    """Every feature's name: :data:`FEATURES`, then one per vocabulary word."""
    return [*FEATURES, *(WORD_PREFIX + word for word in vocab)]


def vocabulary_of(names: Iterable[str]) -> list[str]:
    """The vocabulary behind a model's feature names (inverse of :func:`feature_names`)."""
    return [name[len(WORD_PREFIX) :] for name in names if name.startswith(WORD_PREFIX)]


def row(features: Iterable[float], present: Collection[str], vocab: Iterable[str]) -> list[float]:
    """A model row: the :data:`FEATURES` values, then 1/0 per vocabulary word ``present``.

    The one layout training and inference share.
    """
    return [*features, *[1.0 if word in present else 0.0 for word in vocab]]


def feature_row(
    answer: Answer,
    vocab: list[str],
    reading: Reading | None = None,
    signals: Evidence | None = None,
) -> list[float]:
    """One answer's model row, from :func:`answer_features` and :func:`answer_words`."""
    return row(answer_features(answer, reading, signals), answer_words(answer), vocab)

"""Cheap features of one answer for the learned judge, from toolsim's normalised :class:`Answer`.

Everything here reads only the query, the final answer and each tool call's
name, arguments and reply, so any answer format toolsim reads gets the same
features. None of them names a query, a tool or a method: the judge has to
work on queries and agents it never saw.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Collection, Iterable

from toolsim.answers import Answer
from toolsim.runs import FINISH

_WORD = re.compile(r"[a-z][a-z0-9']+|\d+(?:\.\d+)?")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:[.,]\d+)*(?![\w])")
_SENTENCE = re.compile(r"(?<=[.?!])\s+")
_QUOTED = re.compile(r"""['"“‘]([^'"”’]{2,60})['"”’]""")
_CAPITALISED = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][a-zA-Z0-9&-]{2,}")
_ASK = re.compile(
    r"\b(can you|could you|would you|please|i need|i want|i'd like|i would like|provide|"
    r"give me|tell me|suggest|recommend|fetch|get me|find|show me|help me|share|list)\b"
)
_MORE = re.compile(r"\b(also|additionally|furthermore|moreover|as well|in addition|besides)\b")
_APOLOGY = re.compile(r"\b(sorry|apologi[sz]e|apologies|unfortunately|regret)\b")
_INABILITY = re.compile(
    r"\b(unable|couldn't|could not|can't|cannot|can not|not able|wasn't able|was not able|"
    r"failed|failure|not possible|no (?:results?|data|information|info|details)|not (?:found|"
    r"available|accessible|retrieve)|unavailable|did not return|didn't return|no longer|"
    r"does not (?:exist|support|provide)|doesn't (?:exist|support|provide)|limitations?|"
    r"issue|problem|technical|there (?:is|are|were|was) no|did not find|didn't find|"
    r"not (?:provide|have access|currently|supported|possible|able)|does not have|"
    r"doesn't have|no (?:specific|available|relevant|such))\b"
)
_DEFLECT = re.compile(
    r"\b(you can (?:visit|check|use|try|find|search|contact|refer)|i (?:recommend|suggest)|"
    r"please (?:check|visit|try|provide|contact|let me know)|try again|later|official website|"
    r"other sources|alternative|manually|directly)\b"
)
_FUTURE = re.compile(r"\b(i will|i'll|let me|i am going to|i'm going to|next,? i)\b")
_REPLY_FAIL = re.compile(
    r"(error|invalid|not found|no data|unauthori[sz]ed|forbidden|exceeded|rate limit|expired|"
    r"subscribe|not subscribed|does not exist|doesn't exist|bad request|timeout|timed out|"
    r"missing|required|blocked|denied|unavailable|not allowed|disabled|no api key|"
    r"not recognized|not valid|please verify|please provide|deprecated|"
    r"\b40[0-9]\b|\b50[0-9]\b|traceback|exception)"
)
_EMPTY_REPLIES = {"", "{}", "[]", "none", "null", '""', "''", "{'data': []}", '{"data": []}'}
_STOP = frozenset(
    """a an the and or but if then of to in on for with at by from about as into like through
    after over between out against during without before under around among is are was were be
    been being am do does did have has had having i me my we our you your he she it its they them
    their this that these those there here what which who whom whose when where why how all any
    both each few more most other some such no nor not only own same so than too very can could
    will would shall should may might must just also additionally furthermore please provide
    give tell need want like know get find help information info details some me us i'm i'd
    i'll im let show share list suggest recommend fetch interested looking planning plan
    additionally furthermore moreover make sure could would""".split()
)

FEATURES: tuple[str, ...] = (
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


def words(text: str) -> list[str]:
    """Lower-case word and number tokens."""
    return _WORD.findall(text.lower())


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A crude stem, enough to match "jokes" with "joke" and "ratings" with "rating"."""
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def content(text: str) -> set[str]:
    """The stems of a text's content words (stop words and short tokens dropped)."""
    return {stem(word) for word in words(text) if word not in _STOP and len(word) > 2}


def numbers(text: str) -> set[str]:
    """The numbers in a text, normalised (thousands separators and trailing zeros dropped)."""
    found = set()
    for raw in _NUMBER.findall(text):
        value = raw.replace(",", "")
        if "." in value:
            value = value.rstrip("0").rstrip(".")
        found.add(value)
    return found


def _fraction(part: int, whole: int) -> float:
    return part / whole if whole else -1.0


def _log(value: float) -> float:
    return math.log1p(max(value, 0.0))


def _reply_body(response: str) -> str:
    """The useful part of a reply: its ``response`` field when it is the usual JSON wrapper."""
    text = response.strip()
    marker = '"response": '
    at = text.find(marker)
    if text.startswith('{"error"') and at >= 0:
        return text[at + len(marker) :].rstrip("}").strip().strip('"')
    return text


def _failed(step_error: str, body: str) -> tuple[bool, bool, bool]:
    """(error field set, reply reads like a failure, reply is empty) for one call."""
    empty = body.strip().lower() in _EMPTY_REPLIES or len(body.strip()) < 3
    failure = bool(_REPLY_FAIL.search(body[:400].lower()))
    return bool(step_error.strip()), failure, empty


def _name_words(name: str) -> set[str]:
    head = name.split("_for_")[0]
    return {stem(part) for part in head.lower().split("_") if len(part) > 2 and part not in _STOP}


def _covered(sentence: set[str], seen: set[str]) -> bool:
    if not sentence:
        return True
    return len(sentence & seen) / len(sentence) >= 0.34


def _asked(query: str) -> list[str]:
    """The sentences of the query that ask for something."""
    asked = []
    for sentence in _SENTENCE.split(query.strip()):
        lowered = sentence.lower()
        if "?" in sentence or _ASK.search(lowered) or _MORE.search(lowered):
            asked.append(sentence)
    return asked


def _query_sentences(asked: list[str]) -> list[set[str]]:
    """The content words of each request sentence (:func:`_asked`) that has any."""
    return [words_ for sentence in asked if (words_ := content(sentence))]


_ITEM_SPLIT = re.compile(r",|;|\band\b|\bor\b|\bas well as\b|\bincluding\b|\bsuch as\b")
_LIST_LINE = re.compile(r"(?m)^\s*(?:[-*\u2022]|\d+[.)])\s+")
_TRUNCATED = re.compile(r"(\.\.\.|\u2026|\band more\b|\betc\b|\band others\b)")
_DESCRIBES = re.compile(r"^\W*(?:the|this)\b.{0,120}\b(?:api|endpoint|function|tool)\b")
_PLACEHOLDER = re.compile(
    r"(your_|\[[a-z ]*(?:image|link|url|code)[a-z ]*\]|<[a-z_ ]+>|placeholder)"
)
_NEGATIVE = re.compile(f"{_APOLOGY.pattern}|{_INABILITY.pattern}")
_HOWEVER = re.compile(r"\b(however|but|although|while)\b")


def _parts(asked: list[str]) -> list[set[str]]:
    """The content stems of each item the query asks for (its request sentences, from
    :func:`_asked`, split at commas and "and"), so "address, latitude, and longitude" is
    three items."""
    items = []
    for sentence in asked:
        for piece in _ITEM_SPLIT.split(sentence.lower()):
            stems = content(piece)
            if stems:
                items.append(stems)
    return items


def _sentence_coverage(sentences: list[set[str]], seen: set[str]) -> tuple[float, float]:
    """The mean and the smallest share of each sentence's stems found in ``seen``."""
    if not sentences:
        return -1.0, -1.0
    shares = [len(sentence & seen) / len(sentence) for sentence in sentences]
    return sum(shares) / len(shares), min(shares)


def _count(pattern: re.Pattern[str], text: str) -> int:
    return len(pattern.findall(text))


def answer_features(answer: Answer) -> list[float]:
    """The :data:`FEATURES` of one answer, in order."""
    query = answer.query
    final = answer.final_answer
    final_lower = final.lower()
    query_lower = query.lower()
    steps = answer.steps

    bodies = [_reply_body(step.response) for step in steps]
    statuses = [_failed(step.error, body) for step, body in zip(steps, bodies, strict=True)]
    useful = [
        body
        for body, (error, failure, empty) in zip(bodies, statuses, strict=True)
        if not (error or failure or empty)
    ]
    replies_text = "\n".join(bodies)
    reply_words = content(replies_text)
    reply_numbers = numbers(replies_text)
    arguments_text = " ".join(step.arguments for step in steps).lower()

    answer_words_ = words(final)
    answer_content = content(final)
    query_content = content(query)
    answer_numbers = numbers(final)
    query_numbers = numbers(query)
    new_words = answer_content - query_content
    entities = {m.lower() for m in _QUOTED.findall(query)} | {
        m.lower() for m in _CAPITALISED.findall(query)
    }
    entities = {entity for entity in entities if entity not in _STOP}

    called = [step.function for step in steps]
    per_function = Counter(called)
    calls_seen = Counter((step.function, step.arguments.strip()) for step in steps)
    function_words: set[str] = set()
    for name in per_function:
        function_words |= _name_words(name)
    offered = [
        str(tool.get("name", ""))
        for tool in answer.available_tools
        if str(tool.get("name", "")) not in ("", FINISH)
    ]

    asked = _asked(query)
    sentences = _query_sentences(asked)
    seen = answer_content | function_words
    covered = sum(_covered(sentence, seen) for sentence in sentences)

    answer_sentences = [part for part in _SENTENCE.split(final.strip()) if part.strip()]
    negative = [bool(_NEGATIVE.search(part.lower())) for part in answer_sentences]
    capitalised = {m.lower() for m in _CAPITALISED.findall(final)} - _STOP
    replies_lower = replies_text.lower()
    parts = _parts(asked)
    mean_share, min_share = _sentence_coverage(sentences, answer_content)

    positive = set()
    for part, bad in zip(answer_sentences, negative, strict=True):
        if not bad:
            positive |= content(part)
    negative_chars = sum(len(p) for p, bad in zip(answer_sentences, negative, strict=True) if bad)
    positive_mean, positive_min = _sentence_coverage(sentences, positive)

    useful_names: list[set[str]] = []
    reflected = 0
    for step, body, (error, failure, empty) in zip(steps, bodies, statuses, strict=True):
        if error or failure or empty:
            continue
        useful_names.append(_name_words(step.function))
        if len((content(body[:4000]) - query_content) & answer_content) >= 2:
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
        "answer_apologies": _count(_APOLOGY, final_lower),
        "answer_inability": _count(_INABILITY, final_lower),
        "answer_deflections": _count(_DEFLECT, final_lower),
        "answer_future": _count(_FUTURE, final_lower),
        "answer_questions": final.count("?"),
        "answer_urls": final_lower.count("http"),
        "answer_mentions_function": float(any(name.lower() in final_lower for name in called)),
        "answer_repeats_query_frac": _fraction(
            len(answer_content & query_content), len(answer_content)
        ),
        "query_chars_log": _log(len(query)),
        "query_words": len(words(query)),
        "query_asks": _count(_ASK, query_lower),
        "query_more": _count(_MORE, query_lower),
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
    return [float(values[name]) for name in FEATURES]


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
    return [*features, *(1.0 if word in present else 0.0 for word in vocab)]


def feature_row(answer: Answer, vocab: list[str]) -> list[float]:
    """One answer's model row, from :func:`answer_features` and :func:`answer_words`."""
    return row(answer_features(answer), answer_words(answer), vocab)

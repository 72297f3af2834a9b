"""Grounding signals: what an answer's tool calls returned, and how much of the answer rests on it.

A reference judge decides whether a final answer really answers each request
*with information the tools returned*. These signals make that link visible to
any judge (the learned judge's features, plug-in judges) and to reports (the
per-query "evidence" column). They read only toolsim's normalised
:class:`~toolsim.answers.Answer`: the query, the final answer and each call's
name, arguments and reply. Nothing names a query, tool or agent method.

=============================  ======================================================
:class:`Evidence` field         what it counts
=============================  ======================================================
``calls``                       tool calls in the trajectory (every DFS node's)
``calls_replied``               calls the tool answered (no error field set)
``calls_ok``                    calls that returned something useful: answered, not
                                empty, not a failure message ("invalid", "rate limit")
``requests``                    items the query asks for (request sentences split at
                                commas and "and": "address, latitude and longitude"
                                is three)
``requests_called``             items that a successful call's name or reply speaks to
``requests_answered``           items the answer speaks to outside its hedging sentences
``facts``                       concrete facts in the answer: numbers, names, quoted
                                strings, ids, dates, URLs, e-mail addresses
``facts_grounded``              facts that occur in a tool reply
``facts_restated``              facts found only in the query (restating, not evidence)
``facts_ungrounded``            facts found in neither (invented, or from elsewhere)
``words_new``                   content words of the answer that are not in the query
``words_new_grounded``          of those, the ones that occur in a tool reply
``restated``                    share of the answer's content words taken from the query
``query_covered``               share of the query's content words the answer uses
``hedges``                      sentences that apologise, report a failure or deflect
``hedging_only``                every sentence of the answer hedges
=============================  ======================================================

:func:`did_nothing` turns them into the one verdict every judge should share:
an answer that rests on no tool reply and adds nothing to the query is not a
solution, however confident it sounds.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass
from typing import Any

from toolsim.answers import Answer

_WORD = re.compile(r"[a-z][a-z0-9']+|\d+(?:\.\d+)?")
#: Numbers standing alone ("-12", "3.5", "1,000"; not inside a word, an id or a longer
#: number). The same matches as ``(?<![\w.])-?\d+(?:[.,]\d+)*(?![\w])``, written to open on
#: the "-" or digit itself (the look-behind then checks the character before it), so that
#: ``re`` jumps from one such character to the next instead of trying the pattern at every
#: position: twice as fast on tool replies (tests/evaluator/test_grounding_patterns.py).
_NUMBER = re.compile(r"[-\d](?<![\w.][-\d])(?:(?<=-)\d+|(?<=\d)\d*)(?:[.,]\d+)*(?![\w])")
#: Sentence breaks: whitespace after ".", "?" or "!", and runs of newlines. Written as the
#: same split as ``(?<=[.?!])\s+|\n+`` opening on one whitespace character, which lets ``re``
#: jump between spaces instead of trying the pattern at every character (twice as fast).
SENTENCE = re.compile(r"\s(?:(?<=[.?!]\s)\s*|(?<=\n)\n*)")
_QUOTED = re.compile(r"""['"“‘]([^'"”’\n]{2,60})['"”’]""")
#: Capitalised words not opening the text or a sentence: the same matches as
#: ``(?<![.?!]\s)(?<!^)\b[A-Z][a-zA-Z0-9&-]{2,}``, and runs of capitalised words (the same as
#: ``\b[A-Z][\w&'-]*(?:...)+``). Both open on the capital itself and look behind it, so that
#: ``re`` jumps from capital to capital instead of trying the pattern at every position
#: (twice as fast; tests/evaluator/test_grounding_patterns.py).
_CAPITALISED = re.compile(r"[A-Z](?<=\W[A-Z])(?<![.?!]\s[A-Z])[a-zA-Z0-9&-]{2,}")
_NAME = re.compile(r"[A-Z](?<!\w[A-Z])[\w&'-]*(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z][\w&'-]*)+")
_ID = re.compile(r"\b(?=[A-Za-z_-]*\d)(?=\w*[A-Za-z])[\w-]{4,}\b")
_URL = re.compile(r"https?://[^\s)\]>'\"]+")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
ASK = re.compile(
    r"\b(can you|could you|would you|please|i need|i want|i'd like|i would like|provide|"
    r"give me|tell me|suggest|recommend|fetch|get me|find|show me|help me|share|list)\b"
)
MORE = re.compile(r"\b(also|additionally|furthermore|moreover|as well|in addition|besides)\b")
APOLOGY = re.compile(r"\b(sorry|apologi[sz]e|apologies|unfortunately|regret)\b")
INABILITY = re.compile(
    r"\b(unable|couldn't|could not|can't|cannot|can not|not able|wasn't able|was not able|"
    r"failed|failure|not possible|no (?:results?|data|information|info|details)|not (?:found|"
    r"available|accessible|retrieve)|unavailable|did not return|didn't return|no longer|"
    r"does not (?:exist|support|provide)|doesn't (?:exist|support|provide)|limitations?|"
    r"issue|problem|technical|there (?:is|are|were|was) no|did not find|didn't find|"
    r"not (?:provide|have access|currently|supported|possible|able)|does not have|"
    r"doesn't have|no (?:specific|available|relevant|such))\b"
)
DEFLECT = re.compile(
    r"\b(you can (?:visit|check|use|try|find|search|contact|refer)|i (?:recommend|suggest)|"
    r"please (?:check|visit|try|provide|contact|let me know)|try again|later|official website|"
    r"other sources|alternative|manually|directly)\b"
)
_HEDGE = re.compile(f"{APOLOGY.pattern}|{INABILITY.pattern}")
_REPLY_FAIL = re.compile(
    r"(error|invalid|not found|no data|unauthori[sz]ed|forbidden|exceeded|rate limit|expired|"
    r"subscribe|not subscribed|does not exist|doesn't exist|bad request|timeout|timed out|"
    r"missing|required|blocked|denied|unavailable|not allowed|disabled|no api key|"
    r"not recognized|not valid|please verify|please provide|deprecated|traceback|exception)"
)
#: HTTP error codes in a reply, searched apart from :data:`_REPLY_FAIL`: with every
#: alternative opening on a letter, ``re`` skips to the positions where one could start
#: instead of trying each of them at every character (twice as fast on replies).
_REPLY_CODE = re.compile(r"\b40[0-9]\b|\b50[0-9]\b")
_EMPTY_REPLIES = {"", "{}", "[]", "none", "null", '""', "''", "{'data': []}", '{"data": []}'}
#: Item separators (the words' alternatives start differently, so grouping them under one
#: pair of word boundaries finds the same matches three times faster).
_ITEM_SPLIT = re.compile(r",|;|\b(?:and|or|as well as|including|such as)\b")
STOP = frozenset(
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
#: Words that make a sentence's subject but say nothing the tools could have told.
_FILLER = frozenset(
    """done here hope helps help anything else happy assist question questions glad task
    completed complete request requested successfully success following below above result
    results found retrieved provided feel free enjoy great good let know""".split()
)
#: Characters of each reply searched for facts: enough for every reply seen in the labels.
REPLY_CHARS = 20_000


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


class _ContentStems(dict[str, str]):
    """Each token's content stem, or "" for a stop word or a token of two characters or
    fewer, computed once per distinct token: tool replies repeat the same keys and words
    throughout, and stemming them one occurrence at a time was most of :func:`content`'s
    cost. Bounded like :func:`stem`'s cache (past the bound, tokens are stemmed uncached)."""

    limit = 1 << 17

    def __missing__(self, word: str) -> str:
        value = "" if word in STOP or len(word) <= 2 else stem(word)
        if len(self) < self.limit:
            self[word] = value
        return value


_CONTENT_STEMS = _ContentStems()


def content_of(tokens: Iterable[str]) -> set[str]:
    """:func:`content` of already tokenised text (:func:`words`' tokens)."""
    found = set(map(_CONTENT_STEMS.__getitem__, set(tokens)))
    found.discard("")  # a stem is never empty: "" marks the dropped tokens
    return found


def content(text: str) -> set[str]:
    """The stems of a text's content words (stop words and short tokens dropped)."""
    return content_of(words(text))


def numbers(text: str) -> set[str]:
    """The numbers in a text, normalised (thousands separators and trailing zeros dropped)."""
    found = set()
    for raw in set(_NUMBER.findall(text)):  # replies repeat numbers: normalise each once
        value = raw.replace(",", "")
        if "." in value:
            value = value.rstrip("0").rstrip(".")
        found.add(value)
    return found


def reply_body(response: str) -> str:
    """The useful part of a reply: its ``response`` field when it is the usual JSON wrapper."""
    text = response.strip()
    marker = '"response": '
    at = text.find(marker)
    if text.startswith('{"error"') and at >= 0:
        return text[at + len(marker) :].rstrip("}").strip().strip('"')
    return text


def call_status(error: str, body: str) -> tuple[bool, bool, bool]:
    """(error field set, reply reads like a failure, reply is empty) for one call."""
    empty = body.strip().lower() in _EMPTY_REPLIES or len(body.strip()) < 3
    head = body[:400].lower()
    failure = bool(_REPLY_FAIL.search(head) or _REPLY_CODE.search(head))
    return bool(error.strip()), failure, empty


def name_words(name: str) -> set[str]:
    """The content stems of a tool function's name (``get_user_by_id_for_api`` -> user, id)."""
    head = name.split("_for_")[0]
    return {stem(part) for part in head.lower().split("_") if len(part) > 2 and part not in STOP}


def asked(query: str) -> list[str]:
    """The sentences of the query that ask for something."""
    found = []
    for sentence in SENTENCE.split(query.strip()):
        lowered = sentence.lower()
        if "?" in sentence or ASK.search(lowered) or MORE.search(lowered):
            found.append(sentence)
    return found


def request_items(sentences: list[str]) -> list[set[str]]:
    """The content stems of each item the request ``sentences`` ask for (split at commas,
    "and", "or"), so "address, latitude, and longitude" is three items."""
    items = []
    for sentence in sentences:
        for piece in _ITEM_SPLIT.split(sentence.lower()):
            stems = content(piece)
            if stems:
                items.append(stems)
    return items


def hedging(sentence: str) -> bool:
    """Whether a sentence apologises or reports a failure."""
    return bool(_HEDGE.search(sentence.lower()))


def facts(text: str) -> set[str]:
    """The concrete facts of a text, lower-cased: numbers of two digits or more (or with a
    decimal point), names (capitalised words not opening a sentence, runs of capitalised
    words), quoted strings, ids mixing letters and digits, URLs and e-mail addresses."""
    found = {url.rstrip(".,;:").lower() for url in _URL.findall(text)}
    rest = _URL.sub(" ", text)
    if "@" in text:  # few answers hold an address, and _EMAIL is slow to find none
        found |= {mail.lower() for mail in _EMAIL.findall(text)}
        rest = _EMAIL.sub(" ", rest)
    found |= {n for n in numbers(rest) if len(n.lstrip("-").replace(".", "")) >= 2 or "." in n}
    found |= {m.strip().lower() for m in _QUOTED.findall(rest)}
    found |= {m.lower() for m in _NAME.findall(rest)}
    found |= {m.lower() for m in _CAPITALISED.findall(rest)}
    found |= {m.lower() for m in _ID.findall(rest)}
    return {fact for fact in found if fact not in STOP and len(fact) > 1}


def _found_in(fact: str, text: str, text_numbers: AbstractSet[str]) -> bool:
    if fact in text_numbers:
        return True
    return fact in text


@dataclass(frozen=True, slots=True)
class Evidence:
    """The grounding signals of one answer (the module docstring's table)."""

    calls: int
    calls_replied: int
    calls_ok: int
    requests: int
    requests_called: int
    requests_answered: int
    facts: int
    facts_grounded: int
    facts_restated: int
    facts_ungrounded: int
    words_new: int
    words_new_grounded: int
    restated: float
    query_covered: float
    hedges: int
    hedging_only: bool

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON form for reports."""
        data = asdict(self)
        data["restated"] = round(self.restated, 3)
        data["query_covered"] = round(self.query_covered, 3)
        return data

    def summary(self) -> str:
        """One short line for reports, e.g. ``"calls 2/3 ok; facts 4/5 in replies; ..."``."""
        parts = [f"calls {self.calls_ok}/{self.calls} useful"]
        if self.requests:
            parts.append(
                f"asks {self.requests}: {self.requests_called} called, "
                f"{self.requests_answered} answered"
            )
        if self.facts:
            parts.append(
                f"facts {self.facts_grounded}/{self.facts} in replies"
                + (f", {self.facts_restated} from the query" if self.facts_restated else "")
                + (f", {self.facts_ungrounded} nowhere" if self.facts_ungrounded else "")
            )
        else:
            parts.append("no concrete facts")
        parts.append(f"{round(100 * self.restated)}% of its words from the query")
        if self.hedges:
            parts.append(f"{self.hedges} hedging sentence" + ("s" if self.hedges > 1 else ""))
        reason = did_nothing(self)
        return "; ".join(parts) + (f" -> {reason}" if reason else "")


@dataclass(frozen=True, slots=True)
class Reading:
    """What every grounding signal and learned feature reads of one answer, parsed once."""

    #: Per call: the reply's body (cut to :data:`REPLY_CHARS`) and its :func:`call_status`.
    bodies: tuple[str, ...]
    statuses: tuple[tuple[bool, bool, bool], ...]
    #: The bodies of the calls the tool answered (no error field), lower-cased and joined.
    replies: str
    reply_words: frozenset[str]
    reply_numbers: frozenset[str]
    #: The query's and the final answer's :func:`words`, and the stems of their content words.
    query_tokens: tuple[str, ...]
    answer_tokens: tuple[str, ...]
    query_words: frozenset[str]
    answer_words: frozenset[str]
    #: The final answer's sentences, their content words, and which of them hedge.
    sentences: tuple[str, ...]
    sentence_words: tuple[frozenset[str], ...]
    hedges: tuple[bool, ...]
    #: The query's request sentences (:func:`asked`) and items (:func:`request_items`).
    requests: tuple[str, ...]
    items: tuple[frozenset[str], ...]


def read(answer: Answer) -> Reading:
    """Parse one answer for :func:`evidence` and the learned judge's features."""
    bodies = tuple(reply_body(step.response)[:REPLY_CHARS] for step in answer.steps)
    statuses = tuple(
        call_status(step.error, body) for step, body in zip(answer.steps, bodies, strict=True)
    )
    replies = "\n".join(
        body for body, (error, _, _) in zip(bodies, statuses, strict=True) if not error
    ).lower()
    sentences = tuple(part for part in SENTENCE.split(answer.final_answer.strip()) if part.strip())
    requests = tuple(asked(answer.query))
    query_tokens = tuple(words(answer.query))
    answer_tokens = tuple(words(answer.final_answer))
    return Reading(
        bodies=bodies,
        statuses=statuses,
        replies=replies,
        # ``replies`` is lower-cased already: tokenise it as is (:func:`words` would copy it).
        reply_words=frozenset(content_of(_WORD.findall(replies))),
        reply_numbers=frozenset(numbers(replies)),
        query_tokens=query_tokens,
        answer_tokens=answer_tokens,
        query_words=frozenset(content_of(query_tokens)),
        answer_words=frozenset(content_of(answer_tokens)),
        sentences=sentences,
        sentence_words=tuple(frozenset(content(part)) for part in sentences),
        hedges=tuple(hedging(part) for part in sentences),
        requests=requests,
        items=tuple(frozenset(item) for item in request_items(list(requests))),
    )


def evidence(answer: Answer, reading: Reading | None = None) -> Evidence:
    """The grounding signals of one answer (``reading``: its :func:`read`, when at hand)."""
    reading = reading or read(answer)
    ok_names = [
        name_words(step.function)
        for step, status in zip(answer.steps, reading.statuses, strict=True)
        if not any(status)
    ]
    query_lower = answer.query.lower()
    query_numbers = numbers(query_lower)
    answer_facts = facts(answer.final_answer)
    grounded = {
        fact for fact in answer_facts if _found_in(fact, reading.replies, reading.reply_numbers)
    }
    restated = {
        fact for fact in answer_facts - grounded if _found_in(fact, query_lower, query_numbers)
    }
    positive: set[str] = set()
    for words_, hedged in zip(reading.sentence_words, reading.hedges, strict=True):
        if not hedged:
            positive |= words_
    items = reading.items
    called = sum(
        any(item & name for name in ok_names) or bool(item & reading.reply_words) for item in items
    )
    answer_words, query_words = reading.answer_words, reading.query_words
    new = answer_words - query_words - _FILLER
    return Evidence(
        calls=len(answer.steps),
        calls_replied=sum(not error for error, _, _ in reading.statuses),
        calls_ok=len(ok_names),
        requests=len(items),
        requests_called=called,
        requests_answered=sum(bool(item & positive) for item in items),
        facts=len(answer_facts),
        facts_grounded=len(grounded),
        facts_restated=len(restated),
        facts_ungrounded=len(answer_facts) - len(grounded) - len(restated),
        words_new=len(new),
        words_new_grounded=len(new & reading.reply_words),
        restated=len(answer_words & query_words) / len(answer_words) if answer_words else 0.0,
        query_covered=len(answer_words & query_words) / len(query_words) if query_words else 0.0,
        hedges=sum(reading.hedges),
        hedging_only=bool(reading.sentences) and all(reading.hedges),
    )


def did_nothing(signals: Evidence) -> str | None:
    """Why an answer is no solution whatever it claims, or None.

    * no tool call was answered (none made, or every one failed): nothing rests on a tool;
    * the answer says nothing beyond the query (fewer than three new words, no fact of its
      own) and barely mentions what was asked;
    * the answer states facts, and not one of them, nor of its new words, is in a reply;
    * the answer barely touches the query (under 15% of its words) and most of its facts
      are in no reply: it answers another question.
    """
    if signals.calls_replied == 0:
        return "did nothing: no tool call was answered"
    if (
        signals.words_new < 3
        and signals.facts == signals.facts_restated
        and signals.query_covered < 0.15
    ):
        return "did nothing: the answer says nothing the query did not"
    if (
        signals.facts >= 3
        and signals.facts_grounded == 0
        and signals.facts_ungrounded == signals.facts
        and signals.words_new_grounded == 0
    ):
        return "did nothing: none of the answer's facts occurs in a tool reply"
    if signals.query_covered < 0.15 and 2 * signals.facts_grounded < signals.facts:
        return "did nothing: the answer is not about the query, nor from its tool replies"
    return None

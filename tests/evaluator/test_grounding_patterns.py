"""The grounding and feature patterns rewritten for speed find exactly what the originals did.

The learned judge was trained on features these patterns compute, so a faster form
must give the same matches on every text, not only on the shared labels: each rewritten
pattern is compared with the form it replaced on random texts built from the characters
and words that decide a match (boundaries, punctuation, capitals, digits, non-ASCII).
"""

from __future__ import annotations

import random
import re

import pytest

from toolsim.evaluator.judging import grounding
from toolsim.evaluator.judging.learned import features

#: The forms the patterns had when the shipped model was trained.
ORIGINAL_SENTENCE = re.compile(r"(?<=[.?!])\s+|\n+")
ORIGINAL_ITEM_SPLIT = re.compile(r",|;|\band\b|\bor\b|\bas well as\b|\bincluding\b|\bsuch as\b")
ORIGINAL_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:[.,]\d+)*(?![\w])")
ORIGINAL_CAPITALISED = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][a-zA-Z0-9&-]{2,}")
ORIGINAL_NAME = re.compile(r"\b[A-Z][\w&'-]*(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z][\w&'-]*)+")
ORIGINAL_REPLY_FAIL = re.compile(grounding._REPLY_FAIL.pattern[:-1] + r"|\b40[0-9]\b|\b50[0-9]\b)")

PIECES = [
    *"aAbZ1٣-_.,;?!&'\"…\n\t é É",
    " and ",
    " or ",
    "as well as",
    "including",
    "such as",
    "sand",
    "Of ",
    "of ",
    "the ",
    "de ",
    "404",
    "500",
    "4001",
    "-12",
    "1,000",
    "3.50",
    "Error",
    "not found",
    "sorry",
    "unfortunately",
    "etc",
    "and more",
    "...",
    "i'll",
    "however",
    "also",
    "http://x.io",
    "a@b.co",
    "İ",
]


def texts(count: int, seed: int) -> list[str]:
    """Random texts of up to a dozen pieces (reproducible)."""
    rng = random.Random(seed)
    return ["".join(rng.choices(PIECES, k=rng.randint(0, 12))) for _ in range(count)]


def spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [match.span() for match in pattern.finditer(text)]


@pytest.mark.parametrize(
    ("new", "old"),
    [
        (grounding.SENTENCE, ORIGINAL_SENTENCE),
        (grounding._ITEM_SPLIT, ORIGINAL_ITEM_SPLIT),
        (grounding._NUMBER, ORIGINAL_NUMBER),
        (grounding._CAPITALISED, ORIGINAL_CAPITALISED),
        (grounding._NAME, ORIGINAL_NAME),
        (features._CAPITALISED, ORIGINAL_CAPITALISED),
    ],
    ids=["sentence", "item-split", "number", "capitalised", "name", "features-capitalised"],
)
def test_rewritten_patterns_match_what_the_originals_did(new, old) -> None:
    for text in texts(20_000, seed=21):
        assert spans(new, text) == spans(old, text), repr(text)
        assert new.split(text) == old.split(text), repr(text)


def test_reply_failures_and_codes_together_are_the_original_search() -> None:
    for text in texts(20_000, seed=22):
        head = text.lower()
        split = bool(grounding._REPLY_FAIL.search(head) or grounding._REPLY_CODE.search(head))
        assert split == bool(ORIGINAL_REPLY_FAIL.search(head)), repr(text)


def test_a_scout_finds_something_wherever_its_pattern_does() -> None:
    for pattern, scout in features._SCOUTS.items():
        for text in texts(5_000, seed=23):
            lowered = text.lower()
            if pattern.search(lowered):
                assert scout.search(lowered), (pattern.pattern, lowered)


def test_content_is_the_stems_of_the_content_words() -> None:
    for text in texts(5_000, seed=24):
        expected = {
            grounding.stem(word)
            for word in grounding.words(text)
            if word not in grounding.STOP and len(word) > 2
        }
        assert grounding.content(text) == expected, repr(text)

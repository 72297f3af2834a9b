"""A judge without a verdict makes an unscored round; any other judge error surfaces."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolsim.answers import Answer
from toolsim.errors import NoVerdict
from toolsim.evaluator.labels import Label, Preference
from toolsim.evaluator.scoring.win_rate import judge_round


def answer(text: str) -> Answer:
    return Answer(
        query_id="1",
        group="G1",
        query="What is the weather in Oslo?",
        method="m",
        final_answer=text,
        finished=True,
        steps=(),
        available_tools=(),
        details=None,
        record=None,
        source=Path("x.json"),
    )


class Refusing:
    """A judge whose compare raises what it is given."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def compare(self, query: str, first: Answer, second: Answer, run: int) -> tuple[str, str]:
        raise self.error


async def test_no_verdict_is_an_unscored_round() -> None:
    judge = Refusing(NoVerdict("reply is not JSON"))
    labels = (Label.SOLVED, Label.SOLVED)  # both solved: only the judge can decide
    played = await judge_round(judge, "G1", answer("12 C"), answer("cold"), labels, 0)  # type: ignore[arg-type]
    assert played.preference is Preference.UNSCORED
    assert "not JSON" in played.reason


async def test_a_bug_in_a_judge_is_not_an_unscored_round() -> None:
    judge = Refusing(ValueError("a bug"))
    with pytest.raises(ValueError, match="a bug"):
        await judge_round(judge, "G1", answer("12 C"), answer("cold"), (Label.SOLVED,) * 2, 0)  # type: ignore[arg-type]

"""Grounding signals and the metamorphic probes: answers that did nothing are never Solved.

The probes are built from real answers of the shared labels that every GPT-4 run
called Solved (``toolsim.evaluator.judging.probes``): no call and an answer that
restates the query, the real trajectory with another query's answer, an answer that
says nothing ("All done..."), and the real answer with every call failed. The shipped
judge learned from every fourth probe of its training answers; these tests judge the
other three quarters, and the probes of answers it never trained on.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from toolsim.answers import Answer, ToolStep, load_answer_sets, query_order
from toolsim.evaluator.judging.grounding import did_nothing, evidence, facts
from toolsim.evaluator.judging.learned.judge import LearnedJudge
from toolsim.evaluator.judging.learned.training import PROBE_EVERY
from toolsim.evaluator.judging.probes import KINDS, probe, probes

LABELS = "judge-labels"
UNSEEN = "stabletoolbench/data_example/model_predictions_converted"


def _answer(query: str, final: str, steps: tuple[ToolStep, ...] = ()) -> Answer:
    return Answer(
        query_id="1",
        group="G1_instruction",
        query=query,
        method="test",
        final_answer=final,
        finished=True,
        steps=steps,
        available_tools=(),
        details=None,
        record=None,
        source=Path("test.json"),
    )


QUERY = "What is the weather in Paris today? Also give me the humidity."
REPLY = "{\"error\": \"\", \"response\": \"{'city': 'Paris', 'temp_c': 21.5, 'humidity': 64}\"}"
CALL = ToolStep("current_weather_for_weatherapi", '{"city": "Paris"}', REPLY)


def test_facts_in_replies_are_grounded_and_restated_ones_are_not() -> None:
    found = evidence(_answer(QUERY, "It is 21.5 C in Paris, humidity 64% (Sunny Side).", (CALL,)))
    assert facts("It is 21.5 C in Paris on 2024-05-01, see https://x.io/a.") >= {
        "21.5",
        "paris",
        "2024",
        "https://x.io/a",
    }
    assert found.calls == found.calls_replied == found.calls_ok == 1
    assert found.facts_grounded >= 2  # 21.5 and 64 are in the reply
    assert found.facts_ungrounded >= 1  # "Sunny Side" is in no reply
    assert found.requests >= 2 and found.requests_answered >= 1
    assert did_nothing(found) is None
    assert "calls 1/1 useful" in found.summary()


def test_each_kind_of_doing_nothing_is_named() -> None:
    real = _answer(QUERY, "It is 21.5 C in Paris with 64% humidity.", (CALL,))
    other = _answer("List three jokes about cats.", "Why did the cat sit on 42 keyboards?")
    reasons = {kind: did_nothing(evidence(probe(kind, real, other))) for kind in KINDS}
    assert all(reason and reason.startswith("did nothing") for reason in reasons.values())
    assert "no tool call was answered" in str(reasons["no_call_restates"])
    assert "no tool call was answered" in str(reasons["failed_calls"])
    assert did_nothing(evidence(real)) is None
    with pytest.raises(ValueError, match="same query"):
        probe("swapped_answer", real, real)
    with pytest.raises(ValueError, match="unknown probe kind"):
        probe("nonsense", real, other)


def test_probes_are_the_same_every_time() -> None:
    real = _answer(QUERY, "It is 21.5 C in Paris.", (CALL,))
    other = _answer("List jokes.", "A joke.", (CALL,))
    first, second = probes([real, other]), probes([real, other])
    assert first == second and all(len(first[kind]) == 2 for kind in KINDS)


def _solved(folder: Path) -> list[Answer]:
    found = []
    for answer_set in load_answer_sets(folder):
        for query_id in sorted(answer_set.answers, key=query_order):
            answer = answer_set.answers[query_id]
            if answer.finished and answer.steps and set(answer.reference) == {"Solved"}:
                found.append(answer)
    return found


def _solved_share(judge: LearnedJudge, answers: list[Answer]) -> float:
    async def labels() -> list[str]:
        return [(await judge.verdict(answer, 0)).label.value for answer in answers]

    judged = asyncio.run(labels())
    return judged.count("Solved") / len(judged)


@pytest.mark.slow
def test_answers_that_did_nothing_are_not_solved(shared_data: Path) -> None:
    judge = LearnedJudge.load()
    judge.known = {}  # judge every probe on its features, never on a known verdict
    built = probes(_solved(shared_data / LABELS))
    for kind in KINDS:
        unseen = [a for index, a in enumerate(built[kind]) if index % PROBE_EVERY]
        share = _solved_share(judge, unseen)
        print(f"{kind}: {100 * share:.1f}% of {len(unseen)} judged Solved")
        assert len(unseen) > 1500 and share <= 0.05, kind


@pytest.mark.slow
def test_real_solved_answers_stay_solved(shared_data: Path) -> None:
    """The same answers, untouched, are mostly Solved: the probes fail for what changed."""
    judge = LearnedJudge.load()
    judge.known = {}
    share = _solved_share(judge, _solved(shared_data / LABELS))
    print(f"unanimous reference-Solved answers judged Solved: {100 * share:.1f}%")
    assert share >= 0.9


def test_probes_of_answers_the_judge_never_saw(shared_data: Path) -> None:
    """ChatGPT answers of the reference's examples: not in the judge's training labels."""
    answers = [
        answer
        for answer_set in load_answer_sets(shared_data / UNSEEN)
        for answer in answer_set.answers.values()
        if answer.finished and answer.steps
    ]
    judge = LearnedJudge.load()
    assert not any(judge.seen(answer) for answer in answers)
    built = probes(answers)
    for kind in KINDS:
        assert built[kind] and _solved_share(judge, built[kind]) == 0.0, kind

"""Metamorphic probes: answers built from real ones so that they did nothing, and must fail.

Each probe starts from a real answer that the reference judged Solved and
changes one thing, so a judge that reads the link between the answer and
the tool replies must now say "not Solved":

* ``no_call_restates``: no tool call, and a final answer that restates the query;
* ``swapped_answer``: the real trajectory with the final answer of another query;
* ``empty_done``: the real trajectory with an answer that says nothing ("All done...");
* ``failed_calls``: the real final answer, but every tool call failed (its facts occur in
  no tool reply).

The choices (which donor answer, which wording) are seeded by the query id, so
the same answers always give the same probes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace

from toolsim.answers import Answer, ToolStep
from toolsim.evaluator.judging.grounding import asked

KINDS = ("no_call_restates", "swapped_answer", "empty_done", "failed_calls")

_RESTATE = (
    "{query}",
    "Here is what you asked for: {request}",
    "I have taken care of your request. {query}",
    "Sure! You would like me to {request_lower} I have done that for you.",
)
_DONE = (
    "All done! Let me know if there is anything else I can help you with.",
    "I have completed the task. Feel free to ask if you need more help.",
    "The request has been processed successfully.",
    "Done. I hope this helps!",
)
_FAILED = '{"error": "Timeout error: the API did not respond", "response": ""}'


def _pick(key: str, count: int) -> int:
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % count


def restate(answer: Answer) -> str:
    """A final answer that only restates the answer's query."""
    request = (asked(answer.query) or [answer.query])[0].strip()
    template = _RESTATE[_pick(answer.query_id, len(_RESTATE))]
    return template.format(
        query=answer.query.strip(),
        request=request,
        request_lower=request[:1].lower() + request[1:],
    )


def probe(kind: str, answer: Answer, donor: Answer) -> Answer:
    """The ``kind`` probe of ``answer``; ``donor`` (an answer to another query) lends its
    final answer to ``swapped_answer``.

    Raises:
        ValueError: an unknown kind, or a donor to the same query.
    """
    if kind == "no_call_restates":
        return replace(answer, steps=(), final_answer=restate(answer))
    if kind == "swapped_answer":
        if donor.query.strip() == answer.query.strip():
            raise ValueError("the donor answers the same query")
        return replace(answer, final_answer=donor.final_answer)
    if kind == "empty_done":
        return replace(answer, final_answer=_DONE[_pick(answer.query_id, len(_DONE))])
    if kind == "failed_calls":
        steps = tuple(
            ToolStep(step.function, step.arguments, _FAILED, "Timeout error")
            for step in answer.steps
        )
        return replace(answer, steps=steps)
    raise ValueError(f"unknown probe kind {kind!r}; known: {', '.join(KINDS)}")


def probes(solved: Sequence[Answer]) -> dict[str, list[Answer]]:
    """Every probe kind of every answer in ``solved`` (answers the reference judged Solved,
    with at least one tool call); each borrows from the next answer to another query."""
    usable = [answer for answer in solved if answer.finished and answer.steps]
    built: dict[str, list[Answer]] = {kind: [] for kind in KINDS}
    for index, answer in enumerate(usable):
        donor = next(
            (
                other
                for other in usable[index + 1 :] + usable[:index]
                if other.query.strip() != answer.query.strip()
            ),
            None,
        )
        for kind in KINDS:
            if donor is None and kind == "swapped_answer":
                continue
            built[kind].append(probe(kind, answer, donor or answer))
    return built

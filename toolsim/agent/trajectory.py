"""What an agent did: actions the model chose and the steps (tree nodes) they became.

A :class:`Step` is one executed action with its observation. Steps form a tree
(a CoT run is a tree with one branch): a step's ``children`` are the actions
tried after it, in the order they were expanded. Everything the output formats
need is derived from these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from toolsim.runs.answer_format import CODE_ANSWER, CODE_GIVE_UP, FINISH


@dataclass(frozen=True, slots=True)
class Action:
    """One function call the model asked for."""

    function: str
    #: The arguments as JSON text, as the model wrote them (kept verbatim for the answer files).
    arguments: str
    parsed: dict[str, Any]
    thought: str = ""
    #: Reasoning items of the model's reply (Responses API), sent back with the next turn.
    reasoning: tuple[dict[str, Any], ...] = ()

    @property
    def is_finish(self) -> bool:
        """Whether this action ends the chain."""
        return self.function == FINISH

    @property
    def return_type(self) -> str:
        """Finish's ``return_type`` (empty for other functions)."""
        return str(self.parsed.get("return_type", "")) if self.is_finish else ""

    @property
    def final_answer(self) -> str:
        """Finish's ``final_answer`` (empty for other functions)."""
        return str(self.parsed.get("final_answer") or "") if self.is_finish else ""


@dataclass(eq=False)
class Step:
    """An executed action: a node of the search tree."""

    action: Action
    observation: str
    code: int
    parent: Step | None = None
    #: Expansion order within the query (0, 1, 2, ...): the reference trees' ``expand_num``.
    index: int = 0
    #: The note the model was shown just before choosing this action (sibling diversity).
    note: str = ""
    children: list[Step] = field(default_factory=list)
    #: Set when the search abandoned this node (gave up, or the chain hit its step cap).
    pruned: bool = False
    #: Position among the calls of one model reply (parallel tool calls): 0 for the first;
    #: a later one is the child of the call before it, and carries no thought.
    batch: int = 0

    @property
    def depth(self) -> int:
        """1 for the first step of a chain."""
        return 1 + (self.parent.depth if self.parent else 0)

    def path(self) -> list[Step]:
        """The steps from the chain's start to this one."""
        steps: list[Step] = []
        node: Step | None = self
        while node is not None:
            steps.append(node)
            node = node.parent
        return steps[::-1]

    @property
    def answered(self) -> bool:
        """A Finish with ``give_answer`` and a non-empty answer."""
        return self.code == CODE_ANSWER

    @property
    def gave_up(self) -> bool:
        """A Finish with ``give_up_and_restart``."""
        return self.code == CODE_GIVE_UP


def walk(roots: list[Step]) -> list[Step]:
    """Every step under ``roots``, depth first, in expansion order within each level."""
    found: list[Step] = []
    pending = list(reversed(roots))
    while pending:
        step = pending.pop()
        found.append(step)
        pending.extend(reversed(step.children))
    return found

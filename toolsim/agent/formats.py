"""The reference answer formats: raw answer files and the converted form evaluators read.

Raw (``answer/<group>/<id>_<method>.json``): the search tree or chain as nodes
(``Thought`` -> ``Action`` -> ``Action Input`` with the observation), and
``answer_generation`` (``valid_data``, ``final_answer`` as the JSON text of the
Finish arguments, the offered ``function`` list, ``query_count``,
``total_tokens``, ``train_messages``, ``chain``, ``query``).

Converted (``converted/<group>.json``): ``{query_id: {query, available_tools,
answer: {method, total_steps, final_answer, answer_details}}}`` where
``answer_details`` is the final chain as nested ``{role, message, next}`` nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from toolsim.agent.trajectory import Step, walk

#: Every node of the reference trees carries this rating; toolsim does not rank nodes.
ELO = 1000.0


@dataclass(frozen=True)
class AnswerInput:
    """What the formats are built from."""

    query: str
    method: str
    functions: list[dict[str, Any]]  # the offered functions, Finish last
    system: str  # the system prompt the model saw
    roots: list[Step]
    model_calls: int
    total_tokens: int
    max_steps: int
    width: int
    max_model_calls: int

    @property
    def final(self) -> Step | None:
        """The chain's last step: the answer if there is one, else the last one expanded."""
        steps = walk(self.roots)
        answered = [step for step in steps if step.answered]
        if answered:
            return answered[0]
        return max(steps, key=lambda step: step.index) if steps else None

    @property
    def final_path(self) -> list[Step]:
        """The steps of the final chain."""
        final = self.final
        return final.path() if final else []

    @property
    def answered(self) -> bool:
        """Whether the final chain ends in a usable answer."""
        final = self.final
        return final is not None and final.answered

    @property
    def final_answer(self) -> str:
        """The Finish arguments' JSON text when answered, else empty (as the reference)."""
        final = self.final
        return final.action.arguments if final is not None and final.answered else ""


def _node(kind: str, description: str, depth: int, **extra: Any) -> dict[str, Any]:
    return {
        "is_terminal": False,
        "pruned": False,
        "finished": False,
        "depth": depth,
        "node_type": kind,
        "description": description,
        "Elo": ELO,
        "child_count": 1,
        "expand_num": 0,
        **extra,
    }


def step_nodes(step: Step, depth: int, *, on_answer_path: bool) -> list[dict[str, Any]]:
    """A step as reference nodes: [Thought], Action, Action Input (with the observation)."""
    nodes = []
    if step.action.thought:
        nodes.append(_node("Thought", step.action.thought, depth))
    nodes.append(_node("Action", step.action.function, depth + len(nodes)))
    nodes.append(
        _node(
            "Action Input",
            step.action.arguments,
            depth + len(nodes),
            observation=step.observation,
            observation_code=step.code,
            io_state={},
        )
    )
    last = nodes[-1]
    last["expand_num"] = step.index
    last["child_count"] = len(step.children)
    last["pruned"] = step.pruned
    last["is_terminal"] = step.action.is_finish
    for node in nodes:
        node["finished"] = on_answer_path
    return nodes


def chain(path: Sequence[Step], *, answered: bool) -> list[dict[str, Any]]:
    """A chain of steps as a flat node list (CoT ``trys``, ``compare_candidates``)."""
    nodes: list[dict[str, Any]] = []
    for step in path:
        nodes += step_nodes(step, len(nodes) + 1, on_answer_path=answered)
    return nodes


def tree(roots: Sequence[Step], answer_path: Sequence[Step]) -> dict[str, Any]:
    """The DFS tree: ``{size, max_length, tree}`` with nested ``children``."""
    on_path = {id(step) for step in answer_path}
    root = _node("Action Input", "", 0, io_state={}, child_count=len(roots))
    size = 1
    deepest = 0

    def attach(parent: dict[str, Any], steps: Sequence[Step]) -> None:
        nonlocal size, deepest
        parent["children"] = []
        for step in steps:
            nodes = step_nodes(step, parent["depth"] + 1, on_answer_path=id(step) in on_path)
            for upper, lower in zip(nodes, nodes[1:], strict=False):
                upper["children"] = [lower]
            parent["children"].append(nodes[0])
            size += len(nodes)
            deepest = max(deepest, nodes[-1]["depth"])
            attach(nodes[-1], step.children)

    attach(root, roots)
    return {"size": size, "max_length": deepest + 1, "tree": root}


def _assistant_messages(step: Step) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if step.note:
        messages.append({"role": "user", "content": step.note})
    if step.action.thought:
        messages.append({"role": "assistant", "content": step.action.thought})
    call = {"name": step.action.function, "arguments": step.action.arguments}
    messages.append({"role": "assistant", "function_call": call})
    return messages


def train_messages(system: str, query: str, path: Sequence[Step]) -> list[list[dict[str, Any]]]:
    """The conversation up to each of the chain's calls (the reference's training view)."""
    history: list[dict[str, Any]] = [
        {"role": "system", "content": system},
        {"role": "user", "content": query},
    ]
    conversations = []
    for step in path:
        history += _assistant_messages(step)
        conversations.append([dict(message) for message in history])
        if not step.action.is_finish:
            history.append(
                {"role": "function", "name": step.action.function, "content": step.observation}
            )
    return conversations


def raw_answer(data: AnswerInput, *, dfs: bool) -> dict[str, Any]:
    """The reference raw answer file of a CoT or DFS run."""
    path = data.final_path
    answered = data.answered
    generation: dict[str, Any] = {
        "valid_data": answered,
        "final_answer": data.final_answer,
        "function": data.functions,
        "query_count": data.model_calls,
        "total_tokens": data.total_tokens,
        "train_messages": train_messages(data.system, data.query, path) if answered else [],
        "chain": [],
        "query": data.query,
    }
    candidates = [chain(path, answered=True)] if answered else []
    if dfs:
        final = data.final
        generation["finish_type"] = final.action.return_type if final and answered else ""
        return {
            "win": answered,
            "tree": tree(data.roots, path if answered else []),
            "forward_args": {
                "single_chain_max_step": data.max_steps,
                "tree_beam_size": data.width,
                "max_query_count": data.max_model_calls,
                "answer": 1,
                "with_filter": False,
            },
            "compare_candidates": candidates,
            "answer_generation": generation,
        }
    return {
        "win": answered,
        "try_count": 1,
        "trys": [{"chain": chain(path, answered=answered), "win": answered}],
        "compare_candidates": candidates,
        "forward_args": {"single_chain_max_step": data.max_steps, "pass_at": 1, "answer": 1},
        "answer_generation": generation,
    }


def converted(data: AnswerInput) -> dict[str, Any]:
    """The converted entry of one query: the final chain as nested ``{role, message, next}``."""
    # As in the reference conversion, system and user messages are left empty:
    # the query is in the entry itself.
    flat: list[tuple[str, Any]] = [("system", ""), ("user", "")]
    for step in data.final_path:
        if step.action.thought:
            flat.append(("assistant", step.action.thought))
        response = "" if step.action.is_finish else step.observation
        call = {"name": step.action.function, "arguments": step.action.arguments}
        flat.append(("tool", {**call, "response": response}))
    details: list[dict[str, Any]] = []
    for role, message in reversed(flat):
        details = [{"role": role, "message": message, "next": details}]
    return {
        "query": data.query,
        "available_tools": data.functions,
        "answer": {
            "method": data.method,
            "total_steps": len(flat),
            "final_answer": data.final_answer,
            "answer_details": details,
        },
    }

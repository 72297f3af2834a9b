"""Names and codes of StableToolBench's answer formats, as toolsim writes and reads them.

The agent ends a chain with the ``Finish`` function, whose ``return_type`` says
whether it answered or gave up; the raw answer trees mark each observation with a
code. These are the reference's spellings: the evaluator, the planner and the
fidelity reader must read exactly what the agent writes.
"""

from __future__ import annotations

from typing import Any

#: The function that ends a chain.
FINISH = "Finish"
#: ``Finish``'s ``return_type`` with a ``final_answer``.
GIVE_ANSWER = "give_answer"
#: ``Finish``'s ``return_type`` that abandons the chain (DFSDT backtracks).
GIVE_UP = "give_up_and_restart"

#: Observation codes, as the reference trees use them (``observation_code``).
CODE_REPLY = 0  # the tool answered (possibly with an API-level error)
CODE_NOT_EXECUTED = 1  # unknown function, or the gate rejected the call
CODE_ANSWER = 3  # Finish with give_answer
CODE_GIVE_UP = 4  # Finish with give_up_and_restart

#: What the Finish function says it does, to the agent's model.
FINISH_DESCRIPTION = (
    f'End the task. return_type "{GIVE_ANSWER}" with final_answer: the complete answer shown '
    f'to the user. return_type "{GIVE_UP}": these steps cannot solve the task, start over.'
)


def finish_schema() -> dict[str, Any]:
    """The Finish function's definition (OpenAI function schema)."""
    return {
        "name": FINISH,
        "description": FINISH_DESCRIPTION,
        "parameters": {
            "type": "object",
            "properties": {
                "return_type": {"type": "string", "enum": [GIVE_ANSWER, GIVE_UP]},
                "final_answer": {
                    "type": "string",
                    "description": f'The answer for the user (needed with "{GIVE_ANSWER}").',
                },
            },
            "required": ["return_type"],
        },
    }

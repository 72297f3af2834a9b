"""Names and codes of StableToolBench's answer formats, as toolsim writes and reads them.

The agent ends a chain with the ``Finish`` function, whose ``return_type`` says
whether it answered or gave up; the raw answer trees mark each observation with a
code. These are the reference's spellings: the evaluator, the planner and the
fidelity reader must read exactly what the agent writes.
"""

from __future__ import annotations

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

"""The learned judge's honest protocol: the labelled methods no design decision looks at.

The shared judge labels (GPT-4-turbo verdicts, ``../shared/data/judge-labels``)
hold six agent methods: three pairs of a training method run as a single chain
(CoT) and as a tree search (DFS). One pair is frozen as the **final test**:
features, hyper-parameters and thresholds are chosen on the other methods only
(leave-one-method-out and held-out queries), and the final test is measured
once, at the end, with a model and known verdicts trained without it.

Why ``baseline-archer`` (chosen on 2026-12 before any per-method result was
looked at, and committed before any design work):

* it is a complete pair: both methods answer all six groups (765 queries each),
  so the final test has 2 x 6 method x group cells to rank; ``baseline-eto``'s
  CoT run has no G1_category file;
* ArCHer is an RL-trained method, like the methods of the independent checks
  (the other StepTool methods), so the final test is the closest proxy for them
  among the shared pairs; the SFT base policy and ETO stay in the design set,
  which keeps a chain and a tree search of two different training methods there.

Never change this to flatter a result: a new final test needs new labels.
"""

from __future__ import annotations

#: The frozen final-test methods (answer-set labels, i.e. folder names under judge-labels).
FINAL_TEST_METHODS: tuple[str, ...] = ("baseline-archer_cot", "baseline-archer_dfs")


def is_final_test(method: str) -> bool:
    """Whether answers of ``method`` belong to the frozen final test."""
    return method in FINAL_TEST_METHODS

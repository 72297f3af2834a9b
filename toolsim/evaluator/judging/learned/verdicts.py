"""From the learned judge's probability of "Solved" to a verdict."""

from __future__ import annotations

#: Probabilities in [low, high) are Unsure (scored 0.5, like the reference's Unsure);
#: at or above ``high`` Solved, below ``low`` Unsolved.
UNSURE_BAND = (0.48, 0.52)


def label_of(probability: float) -> str:
    """Solved, Unsure or Unsolved for a probability of "Solved"."""
    low, high = UNSURE_BAND
    if probability >= high:
        return "Solved"
    if probability < low:
        return "Unsolved"
    return "Unsure"

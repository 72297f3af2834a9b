"""From the learned judge's probability of "Solved" to a verdict."""

from __future__ import annotations

#: Probabilities in [low, high) are Unsure (scored 0.5, like the reference's Unsure);
#: at or above ``high`` Solved, below ``low`` Unsolved. Centred above 0.5: with Solved
#: the commoner label, a cut at 0.5 turns every likely-Solved answer into a sure one and
#: inflates pass rates (by 3-5 points per held-out design method); at 0.6 the judged and
#: reference pass rates of the design methods' cross-validation meet (chosen there).
UNSURE_BAND = (0.58, 0.62)


def label_of(probability: float) -> str:
    """Solved, Unsure or Unsolved for a probability of "Solved"."""
    low, high = UNSURE_BAND
    if probability >= high:
        return "Solved"
    if probability < low:
        return "Unsolved"
    return "Unsure"

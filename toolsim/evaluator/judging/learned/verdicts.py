"""From the learned judge's probability of "Solved" to a verdict."""

from __future__ import annotations

#: Probabilities in [low, high) are Unsure (scored 0.5, like the reference's Unsure);
#: at or above ``high`` Solved, below ``low`` Unsolved. The cut sits above 0.5: with
#: Solved the commoner label, a cut at 0.5 turns every likely-Solved answer into a sure
#: one and inflated the design methods' pass rates by 3-5 points each; at 0.6 judged and
#: reference pass rates meet (chosen on the design methods' cross-validation). The band
#: is empty: an Unsure always counts as a disagreement and moved no pass rate measurably.
UNSURE_BAND = (0.6, 0.6)


def label_of(probability: float) -> str:
    """Solved, Unsure or Unsolved for a probability of "Solved"."""
    low, high = UNSURE_BAND
    if probability >= high:
        return "Solved"
    if probability < low:
        return "Unsolved"
    return "Unsure"

"""How far a judge agrees with reference labels: ``measure`` runs it, ``report`` writes it."""

"""Fidelity: how close a simulator's replies are to recorded replies of the same calls."""

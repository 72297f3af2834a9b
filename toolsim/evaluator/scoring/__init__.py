"""Scoring judged answers: Solvable Pass Rate, Solvable Win Rate, pass^k, budget metrics.

``pass_rate`` and ``win_rate`` run a judge over answer sets; ``aggregate`` turns
labels into rates with intervals; ``results`` holds the report types the
reports and the bench read.
"""

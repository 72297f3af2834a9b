"""Planner DP time: the exact bounded knapsack for 50 APIs, caps up to 5, budget 1000.

Aim: under 5 ms per plan. Baseline in the same run: a textbook item-by-item
bounded knapsack in pure Python (each API's every count tried at every capacity),
which the numpy solver must match exactly on every instance.

Also timed: the multiple-choice variant (diminishing values) on the same instances,
and a whole BTP plan (values and caps from a 1,000-query experience store with the
hashed embedder, then the knapsack).

Usage: python perf/planner.py [--instances 50] [--repeats 20] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from rich.console import Console
from rich.table import Table

from toolsim.budget import PricedApi
from toolsim.catalog.models import ApiSpec, Query
from toolsim.planner import Experience, ExperienceStore, get_planner
from toolsim.planner.embeddings import HashedEmbedder
from toolsim.planner.knapsack import VALUE_QUANTUM, bounded_knapsack, multiple_choice_knapsack

APIS, MAX_CAP, BUDGET = 50, 5, 1000


def instance(rng: random.Random) -> tuple[list[int], list[float], list[int]]:
    costs = [rng.randint(1, 50) for _ in range(APIS)]
    values = [round(rng.random(), 6) for _ in range(APIS)]
    caps = [rng.randint(0, MAX_CAP) for _ in range(APIS)]
    return costs, values, caps


def textbook(costs: list[int], values: list[float], caps: list[int], budget: int) -> int:
    """Best quantised value by the plain O(B * sum(caps)) recurrence, in pure Python."""
    best = [0] * (budget + 1)
    for cost, value, cap in zip(costs, values, caps, strict=True):
        unit = round(value / VALUE_QUANTUM)
        new = best[:]
        for capacity in range(budget + 1):
            for count in range(1, cap + 1):
                if count * cost > capacity:
                    break
                candidate = best[capacity - count * cost] + count * unit
                if candidate > new[capacity]:
                    new[capacity] = candidate
        best = new
    return best[budget]


def timed(function, repeats: int) -> float:
    """Median milliseconds of ``repeats`` calls."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def experience_plan_ms(rng: random.Random, repeats: int) -> float:
    embedder = HashedEmbedder()
    store = ExperienceStore(embedder=embedder.name, dim=embedder.dim)
    names = [f"api_{i}" for i in range(APIS)]
    words = "weather rate hotel movie recipe stock news forecast city price".split()
    texts = [" ".join(rng.choices(words, k=8)) for _ in range(1000)]
    for i, (text, row) in enumerate(zip(texts, embedder.embed(texts), strict=True)):
        store.add_query(f"q{i}", text, row)
        for name in rng.sample(names, 3):
            store.add_use(name, f"q{i}", rng.randint(1, 4), rng.random() < 0.7)
    experience = Experience(store, embedder)
    apis = [PricedApi(name, ApiSpec("C", "T", name), rng.randint(1, 50)) for name in names]
    query = Query("new", "weather forecast and hotel price", tuple(p.api for p in apis))
    planner = get_planner("btp")
    return timed(lambda: planner.plan(query, apis, BUDGET, experience), repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", dest="json_out")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    bounded, choice, baseline, mismatches = [], [], [], 0
    for _ in range(args.instances):
        costs, values, caps = instance(rng)
        solution = bounded_knapsack(costs, values, caps, BUDGET)
        if round(solution.value / VALUE_QUANTUM) != textbook(costs, values, caps, BUDGET):
            mismatches += 1
        bounded.append(
            timed(lambda c=costs, v=values, k=caps: bounded_knapsack(c, v, k, BUDGET), args.repeats)
        )
        marginals = [[v / (j + 1) for j in range(cap)] for v, cap in zip(values, caps, strict=True)]
        choice.append(
            timed(lambda c=costs, m=marginals: multiple_choice_knapsack(c, m, BUDGET), args.repeats)
        )
        baseline.append(timed(lambda c=costs, v=values, k=caps: textbook(c, v, k, BUDGET), 1))
    results = {
        "setup": {"apis": APIS, "max_cap": MAX_CAP, "budget": BUDGET, "instances": args.instances},
        "bounded_ms": statistics.median(bounded),
        "bounded_max_ms": max(bounded),
        "multiple_choice_ms": statistics.median(choice),
        "textbook_python_ms": statistics.median(baseline),
        "btp_plan_with_1000_past_queries_ms": experience_plan_ms(rng, args.repeats),
        "mismatches": mismatches,
    }
    table = Table(title=f"Planner DP: {APIS} APIs, caps <= {MAX_CAP}, B = {BUDGET}")
    table.add_column("what")
    table.add_column("median ms", justify="right")
    table.add_row("bounded knapsack (numpy, exact)", f"{results['bounded_ms']:.2f}")
    table.add_row("  worst instance", f"{results['bounded_max_ms']:.2f}")
    table.add_row("multiple-choice knapsack", f"{results['multiple_choice_ms']:.2f}")
    table.add_row("textbook DP in pure Python", f"{results['textbook_python_ms']:.1f}")
    plan_ms = results["btp_plan_with_1000_past_queries_ms"]
    table.add_row("whole BTP plan, 1,000 past queries", f"{plan_ms:.2f}")
    console = Console()
    console.print(table)
    console.print(f"value mismatches against the textbook DP: {mismatches}")
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as out:
            json.dump(results, out, indent=2)
    if mismatches or results["bounded_ms"] >= 5:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

"""Evaluator: how long does aggregating cached verdicts take?

Synthesises ``--answers`` (500) answers in four groups (a quarter of them
unfinished, so decided by the rules; some with trajectories), judges them once
with an instant scripted judge registered like a real backend to fill the
persistent judge cache, then times ``--rounds`` further cached evaluations
(every verdict answered from the cache; zero model calls is checked) against
two baselines measured in the same run on the same data:

* **aggregation only**: the outcomes already in memory, just the rates,
  deviations, bootstrap intervals, budget metrics and pass^k (no loading, no
  judge requests);
* **load only**: reading and parsing the answer files.

Medians are reported; the difference between the cached evaluation and the two
baselines is the cost of the judge-cache lookups (prompt rendering, request
hashing, diskcache reads).

    python perf/evaluator.py [--answers 500] [--runs 1] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from toolsim.evaluator.judging.llm import LLMJudge
from toolsim.evaluator.scoring.pass_rate import build_entry, judge_entries, load_entries
from toolsim.evaluator.scoring.passk import pass_k_results
from toolsim.llm import ChatReply, ChatRequest, create_chat_model, register_chat_model
from toolsim.settings import Settings

GROUPS = ("G1_instruction", "G1_category", "G1_tool", "G2_instruction")


class InstantJudge:
    """Answers every verdict at once (Solved / Unsolved / Unsure in turn), counting calls."""

    name = "bench-instant-judge"
    calls = 0

    async def complete(self, request: ChatRequest) -> ChatReply:
        InstantJudge.calls += 1
        label = ("Solved", "Unsolved", "Unsure")[len(request.messages[1]["content"]) % 3]
        return ChatReply(content=json.dumps({"reason": "bench", "verdict": label}))

    async def aclose(self) -> None:
        return None


@register_chat_model("bench-instant")
def _instant(**_: Any) -> InstantJudge:
    return InstantJudge()


def synthesise(root: Path, count: int) -> Path:
    """A run-like folder of ``count`` answers over four groups, with records and costs."""
    root.mkdir(parents=True)
    (root / "run.json").write_text(json.dumps({"format": 1, "agent": "cot", "method": "CoT@1"}))
    for index, group in enumerate(GROUPS):
        entries, records = {}, root / "records" / group
        records.mkdir(parents=True)
        for number in range(index, count, len(GROUPS)):
            qid = str(number)
            steps = [
                {
                    "role": "tool",
                    "message": {
                        "name": f"api_{step}_for_tool",
                        "arguments": json.dumps({"q": f"query {number}"}),
                        "response": json.dumps({"error": "", "response": "x" * (50 + number)}),
                    },
                    "next": [],
                }
                for step in range(number % 5)
            ]
            finished = number % 4 != 0
            final = json.dumps({"return_type": "give_answer", "final_answer": f"answer {number}"})
            entries[qid] = {
                "query": f"Please find facts number {number} for me.",
                "available_tools": [],
                "answer": {
                    "method": "CoT@1",
                    "total_steps": len(steps),
                    "final_answer": final if finished else "",
                    "answer_details": [{"role": "system", "message": "", "next": steps}],
                },
            }
            record = {"query_id": qid, "cost": number % 30, "budget": 20, "over_budget": False}
            record["over_budget"] = record["cost"] > 20
            (records / f"{qid}.json").write_text(json.dumps(record))
        (root / "converted").mkdir(exist_ok=True)
        (root / "converted" / f"{group}.json").write_text(json.dumps(entries))
    return root


async def cached_evaluation(folder: Path, settings: Settings, runs: int) -> tuple[float, Any]:
    """Seconds for one whole evaluation (load, judge through the cache, aggregate)."""
    started = time.perf_counter()
    entries, _ = load_entries([folder])
    chat = create_chat_model("judge", settings)
    judge = LLMJudge(chat)
    try:
        outcomes = await judge_entries(entries, runs, judge)
        results = [build_entry(entry, outcomes, runs) for entry in entries]
        pass_k_results(results, runs)
    finally:
        await chat.aclose()
    return time.perf_counter() - started, (entries, outcomes, judge)


def main() -> None:
    """Run the benchmark and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=500)
    parser.add_argument("--runs", type=int, default=1, help="judge runs per query")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory() as tmp:
        folder = synthesise(Path(tmp) / "run", args.answers)
        settings = Settings(home=Path(tmp) / "home", judge={"backend": "bench-instant"})
        first, (entries, outcomes, judge) = asyncio.run(
            cached_evaluation(folder, settings, args.runs)
        )
        filled = InstantJudge.calls
        verdicts = sum(len(s.answers) for e in entries for s in e.sets) * args.runs
        cached, aggregate, load = [], [], []
        for _ in range(args.rounds):
            seconds, (_, _, judge) = asyncio.run(cached_evaluation(folder, settings, args.runs))
            assert InstantJudge.calls == filled, "a cached evaluation reached the model"
            cached.append(seconds)
            started = time.perf_counter()
            results = [build_entry(entry, outcomes, args.runs) for entry in entries]
            pass_k_results(results, args.runs)
            aggregate.append(time.perf_counter() - started)
            started = time.perf_counter()
            load_entries([folder])
            load.append(time.perf_counter() - started)
    table = Table(
        title=f"{verdicts} verdicts ({args.answers} answers x {args.runs} runs), "
        f"median of {args.rounds}"
    )
    for column in ("phase", "median s", "ms per verdict"):
        table.add_column(column, justify="left" if column == "phase" else "right")
    rows = [
        ("first evaluation (fills the cache)", first),
        ("cached evaluation (0 model calls)", statistics.median(cached)),
        ("baseline: aggregation only", statistics.median(aggregate)),
        ("baseline: load only", statistics.median(load)),
    ]
    for name, seconds in rows:
        table.add_row(name, f"{seconds:.3f}", f"{1000 * seconds / verdicts:.3f}")
    console.print(table)
    console.print(
        f"judge requests in the cached evaluation: {judge.requests}, model calls: {judge.calls}, "
        f"from the cache: {judge.cached}; model calls while filling: {filled}"
    )


if __name__ == "__main__":
    main()

"""Every API of the StableToolBench test queries, called with its documented defaults."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
QUERIES = DATA / "stabletoolbench" / "solvable_queries" / "test_instruction"
GROUPS = ["G1_category", "G1_instruction", "G1_tool", "G2_instruction"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.shared_data,
    pytest.mark.skipif(not QUERIES.is_dir(), reason=f"reference data not found at {QUERIES}"),
]


def _reason(problem: str) -> str:
    """A problem message without the names and values that make each one unique."""
    problem = re.sub(r"parameter '[^']*'", "parameter P", problem)
    problem = re.sub(r", got ''$", ", got ''", problem)
    return re.sub(r", got .+$", ", got <value>", problem)


async def test_every_api_answers_its_documented_defaults(make_app, connect):
    app = make_app(
        tools=[str(QUERIES / f"{group}.json") for group in GROUPS],
        simulator={"backend": "schema"},
        server={"memory_entries": 0},
    )
    apis = list(app.state.service.catalog)
    assert len(apis) > 2000
    reasons: Counter[str] = Counter()
    failed_apis = 0

    async with connect(app) as client:
        for api in apis:
            arguments = api.default_arguments()
            names = {"category": api.category, "tool_name": api.tool_name, "api_name": api.name}
            calls = [
                json.dumps(arguments),
                json.dumps(arguments),
                json.dumps(dict(reversed(arguments.items()))),
            ]
            replies = [
                await client.post("/virtual", json={**names, "tool_input": tool_input})
                for tool_input in calls
            ]
            for reply in replies:
                assert reply.status_code == 200, (api.function_name, reply.text)
                assert set(reply.json()) == {"error", "response"}, api.function_name
            assert replies[1].content == replies[0].content, api.function_name
            assert replies[2].content == replies[0].content, api.function_name
            error = replies[0].json()["error"]
            if error:
                failed_apis += 1
                problems = error.removeprefix(f"{api.name}: ").split("; ")
                reasons.update(_reason(problem) for problem in problems)

    print(f"\n{failed_apis} of {len(apis)} default calls got an error; reasons:")
    for reason, count in reasons.most_common(10):
        print(f"  {count:5d}  {reason}")

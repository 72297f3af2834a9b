"""The main job end to end on the embedded model: agent, simulator and judge all real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import require_local_model

from toolsim.pipeline import BenchConfig, run_bench
from toolsim.pipeline.bench import bench_limits
from toolsim.settings import Settings

pytestmark = pytest.mark.integration


async def test_bench_on_the_embedded_model_writes_a_report_and_replays_identically(
    tmp_path: Path,
):
    require_local_model()
    settings = Settings(home=tmp_path / "home")  # the embedded defaults, on a fresh home
    config = BenchConfig(
        suite=("example",),
        agents=("cot",),
        planners=("none", "btp"),
        out=tmp_path / "bench",
        query_ids=("1",),
        limits=bench_limits(settings, 2, 2, None),
    )

    result = await run_bench(config, settings, check_determinism=True)

    assert result.determinism is not None
    assert result.determinism.passed, result.determinism.differences
    bench = json.loads((tmp_path / "bench" / "bench.json").read_text())
    assert [row["combination"] for row in bench["combinations"]] == ["cot-none", "cot-btp"]
    # every query was judged by the real model (or decided by the rules), none lost
    for row in bench["combinations"]:
        assert sum(row["counts"].values()) == 1
    assert "<h2>Summary</h2>" in (tmp_path / "bench" / "report.html").read_text()

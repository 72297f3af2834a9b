"""``toolsim eval fidelity``: a thin shell over :func:`toolsim.fidelity.run.measure_fidelity`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from toolsim.cli.common import HomeOption, SimulatorOption, ToolsOption, settings_from_flags
from toolsim.cli.console import console, counter, err_console, progress_bars, styled

#: What each measure means, printed under the table.
LEGEND = (
    "outcome: success/error agree; keys: Jaccard of JSON key paths; types: same JSON type on "
    "shared paths; values: Jaccard of value words. 1.0 = identical; (95% bootstrap CI); n calls."
)


def _cell(score: Any) -> str:
    if score.mean is None:
        return "n/a"
    if score.ci is None or score.n < 2:
        return f"{score.mean:.2f}"
    return f"{score.mean:.2f} ({score.ci[0]:.2f}-{score.ci[1]:.2f})"


def print_fidelity(report: Any, top: int = 15) -> None:
    """The overall scores, then the APIs with the most calls."""
    from toolsim.fidelity.measures import MEASURES

    console.print(
        styled(
            (f"fidelity of simulator {report.simulator}", "bold"),
            f" (model {report.model or '-'}, "
            f"prompt hash {report.prompt_hash or '-'}): {report.compared} calls compared of "
            f"{report.recorded} recorded ({report.unknown_apis} of APIs not in the catalog, "
            f"{report.failed} simulator failures counted as error replies; {report.seconds:.1f} s)",
        ),
        soft_wrap=True,
    )
    table = Table("scope", "n", *MEASURES, caption=LEGEND, caption_justify="left")
    rows = [("overall", report.overall)]
    rows += sorted(report.per_api.items(), key=lambda item: -item[1]["outcome"].n)[:top]
    for scope, scores in rows:
        cells = [_cell(scores[name]) for name in MEASURES]
        table.add_row(scope, str(scores["outcome"].n), *cells)
    console.print(table)
    for problem in report.problems[:10]:
        err_console.print(styled(("problem:", "yellow"), f" {problem}"), soft_wrap=True)


def fidelity(
    recorded: Annotated[
        list[Path],
        typer.Option(
            "--recorded",
            help="Answer files or folders (raw, converted, pass-rate results) or a reference "
            "response cache folder (repeatable).",
        ),
    ],
    tools: ToolsOption = None,
    simulator: SimulatorOption = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Compare only the first N recorded calls.")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Simulations at once.")] = 4,
    out: Annotated[Path, typer.Option("--out", help="Folder for fidelity.json (created).")] = Path(
        "toolsim-eval"
    ),
    home: HomeOption = None,
) -> None:
    """Compare a simulator's answers with recorded replies to the same calls."""
    from toolsim.errors import UserError
    from toolsim.evaluator.reports.writers import prepare_out
    from toolsim.fidelity.recorded import read_recorded
    from toolsim.fidelity.run import measure_fidelity
    from toolsim.files import write_json_atomic
    from toolsim.server.app import load_catalog
    from toolsim.simulator import create_simulator

    settings = settings_from_flags({"home": home, "tools": tools, "simulator.backend": simulator})
    prepare_out(out)
    catalog = load_catalog(settings)
    found = read_recorded(recorded, catalog)
    if not found.calls:
        raise UserError(f"no recorded tool calls in {', '.join(map(str, recorded))}")
    chosen = create_simulator(settings.simulator.backend, settings=settings)

    async def measure() -> Any:
        try:
            with progress_bars() as progress:
                return await measure_fidelity(
                    list(found.calls.values()),
                    catalog,
                    chosen,
                    limit=limit,
                    concurrency=concurrency,
                    progress=counter(progress, "simulating"),
                )
        finally:
            await chosen.aclose()

    report = asyncio.run(measure())
    report.problems = found.problems + report.problems
    write_json_atomic(out / "fidelity.json", report.to_json())
    print_fidelity(report)
    console.print(f"report: {out / 'fidelity.json'}")

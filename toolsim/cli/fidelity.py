"""``toolsim eval fidelity``: a thin shell over :func:`toolsim.fidelity.run.measure_fidelity`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from toolsim.cli.common import HomeOption, SimulatorOption, ToolsOption, settings_from_flags
from toolsim.cli.console import console, counter, err_console, progress_bars, styled

#: What each measure means, printed under the tables.
LEGEND = (
    "outcome: success/error agree; keys: F1 of nested JSON key paths; types: same JSON type on "
    "shared paths (root included); values: Jaccard of value words; BLEU: sacrebleu corpus "
    "BLEU-4 (0-100). Mean (95% bootstrap CI). A simulator figure in green beats every baseline "
    "scored on the same calls (paired 95% bootstrap interval of the difference above 0); "
    "in red it does not."
)


def _cell(score: Any, scale: float = 1.0) -> str:
    if score.mean is None:
        return "n/a"
    digits = 1 if scale != 1.0 else 2
    if score.ci is None or score.n < 2:
        return f"{score.mean:.{digits}f}"
    return f"{score.mean:.{digits}f} ({score.ci[0]:.{digits}f}-{score.ci[1]:.{digits}f})"


def _scope_table(scope: str, data: dict[str, Any]) -> Table:
    from toolsim.fidelity.scores import BASELINES, COLUMNS, SCOPES, SIMULATOR

    table = Table(
        "answered by",
        "n",
        *("BLEU-4" if name == "bleu" else name for name in COLUMNS),
        title=f"{SCOPES[scope]} ({data['n']})",
        title_justify="left",
    )
    for method in (SIMULATOR, *BASELINES):
        scores = data["rows"][method]
        cells = []
        for name in COLUMNS:
            text = _cell(scores[name], 100.0 if name == "bleu" else 1.0)
            won = data["wins"].get(name) if method == SIMULATOR else None
            cells.append(Text(text, style="" if won is None else "green" if won else "red"))
        label = "simulator" if method == SIMULATOR else f"baseline: {BASELINES[method]}"
        n = scores["outcome"].n
        if n != data["n"]:
            label += f" (defined on {n} calls only: not compared)"
        table.add_row(label, str(n), *cells)
    return table


def print_fidelity(report: Any, top: int = 15) -> None:
    """Both scopes against the baselines, then the APIs with the most calls."""
    from toolsim.fidelity.scores import COLUMNS

    mode = "leave-one-out: exemplars are the other recorded calls of the API; " * (
        report.leave_one_out
    )
    split = (
        "" if report.split == "all" else f"; split {report.split} ({report.test_share:.0%} test)"
    )
    console.print(
        styled(
            (f"fidelity of simulator {report.simulator}", "bold"),
            f" (model {report.model or '-'}, prompt hash {report.prompt_hash or '-'}; {mode}"
            f"{report.compared} calls compared of {report.recorded} recorded{split}; "
            f"{report.unknown_apis} of APIs not in the catalog, {report.failed} simulator "
            f"failures counted as error replies; {report.seconds:.1f} s)",
        ),
        soft_wrap=True,
    )
    for scope, data in report.scopes.items():
        console.print(_scope_table(scope, data))
    if not report.bleu:
        err_console.print(
            styled(("note:", "yellow"), " BLEU-4 needs sacrebleu: pip install 'toolsim[fidelity]'")
        )
    table = Table(
        "API (simulator)",
        "n",
        *("BLEU-4" if c == "bleu" else c for c in COLUMNS),
        caption=LEGEND,
        caption_justify="left",
    )
    rows = sorted(report.per_api.items(), key=lambda item: -item[1]["outcome"].n)[:top]
    for api, scores in rows:
        cells = [_cell(scores[name], 100.0 if name == "bleu" else 1.0) for name in COLUMNS]
        table.add_row(api, str(scores["outcome"].n), *cells)
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
    leave_one_out: Annotated[
        bool,
        typer.Option(
            "--leave-one-out",
            help="Give a simulator that adapts recorded replies (exemplar) the other recorded "
            "calls of the same API, never the one scored.",
        ),
    ] = False,
    split: Annotated[
        str,
        typer.Option(
            help="all, or one part of a fixed split of the APIs by name: tune, or test (keep "
            "the test part for a final check)."
        ),
    ] = "all",
    test_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of APIs in the test part.")
    ] = 0.2,
    concurrency: Annotated[int, typer.Option(min=1, help="Simulations at once.")] = 4,
    out: Annotated[Path, typer.Option("--out", help="Folder for fidelity.json (created).")] = Path(
        "toolsim-eval"
    ),
    home: HomeOption = None,
) -> None:
    """Compare a simulator's answers with recorded replies to the same calls, and baselines."""
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
                    leave_one_out=leave_one_out,
                    split=split,
                    test_share=test_share,
                )
        finally:
            await chosen.aclose()

    report = asyncio.run(measure())
    report.problems = found.problems + report.problems
    write_json_atomic(out / "fidelity.json", report.to_json())
    print_fidelity(report)
    console.print(f"report: {out / 'fidelity.json'}")

"""``toolsim judge train``: a thin shell over the learned judge's training."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from toolsim.cli.console import console
from toolsim.cli.eval import report_table

judge_app = typer.Typer(help="Train the learned judge.", no_args_is_help=True)


def _cells(split: dict[str, Any], part: str) -> list[str]:
    """n, accuracy, kappa, then the ranking's pass-rate error and cell correlation."""
    measured, ranked = split[part], split["ranking"]
    accuracy, kappa = measured["accuracy"], measured["kappa"]
    error, cells = ranked["mean_abs_error"], ranked["spearman_cells"]
    return [
        str(measured["n"]),
        "n/a" if accuracy is None else f"{100 * accuracy:.1f}",
        "n/a" if kappa is None else f"{kappa:.2f}",
        "" if error is None else f"{error:.1f} (max {ranked['max_abs_error']:.1f})",
        "" if cells is None else f"{cells:.2f}",
    ]


@judge_app.command("train")
def train(
    labels: Annotated[
        list[Path],
        typer.Option(
            "--labels",
            help="Reference-labelled pass-rate result files to learn from (repeatable).",
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Folder for model.txt, known.tsv and card.json.")
    ],
    cv: Annotated[
        bool,
        typer.Option(
            "--cv/--no-cv",
            help="Cross-validate on the design methods (by method and by query) and measure "
            "the frozen final-test methods when the labels hold them.",
        ),
    ] = True,
    reference: Annotated[
        str, typer.Option(help="What produced the labels (shown with the judge's agreement).")
    ] = "the training labels' majority",
) -> None:
    """Train a learned judge; from the shared labels it reproduces the shipped one exactly."""
    from toolsim.evaluator.judging.learned.training import train_judge

    with console.status("training") as status:
        trained = train_judge(
            labels, out, cv=cv, reference=reference, progress=lambda text: status.update(text)
        )
    card = trained.card
    console.print(
        f"trained on {card['training']['answers']} labelled answers "
        f"({card['training']['answered']} answered); model sha256 {card['model_sha256']}",
        soft_wrap=True,
    )
    splits = card["cross_validation"]
    if splits:
        table = report_table(
            "Cross-validated on the design methods (never on training items)",
            "held out",
            ("items", "n", "accuracy %", "kappa", "PR error", "cells Spearman"),
        )
        for name, split in splits.items():
            for part in ("all", "answered", "novel"):
                table.add_row(f"by {name}", part, *_cells(split, part))
        console.print(table)
    final = card.get("final_test")
    if final:
        table = report_table(
            f"Final test: {', '.join(final['methods'])} (trained on the design methods alone)",
            "judge",
            ("items", "n", "accuracy %", "kappa", "PR error", "cells Spearman"),
        )
        for name in ("learned", "rule"):
            for part in ("all", "answered"):
                table.add_row(name, part, *_cells(final[name], part))
        console.print(table)
        probes = ", ".join(
            f"{kind} {hit['solved']}/{hit['n']}"
            for kind, hit in final["probes_judged_solved"].items()
        )
        kept = final["reference_solved_kept"]
        console.print(
            f"probes judged Solved: {probes}; unanimous reference-Solved kept Solved: "
            f"{kept['solved']}/{kept['n']}",
            soft_wrap=True,
        )
    console.print("written: " + ", ".join(str(path) for path in trained.files), soft_wrap=True)

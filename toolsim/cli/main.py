"""The ``toolsim`` command tree, assembled: this module only adds commands and groups.

Each command or group lives in its own module of :mod:`toolsim.cli` and never
imports this one. Errors are printed once, by the root group
(:class:`~toolsim.cli.common.ShellGroup`), for every command.
"""

from __future__ import annotations

import typer

from toolsim.cli.bench import bench
from toolsim.cli.cache import cache_app
from toolsim.cli.common import ShellGroup
from toolsim.cli.data import data_app
from toolsim.cli.eval import eval_app
from toolsim.cli.judge import judge_app
from toolsim.cli.model import model_app
from toolsim.cli.planner import plan_alias, planner_app
from toolsim.cli.run import run
from toolsim.cli.serve import serve
from toolsim.cli.world import world_app

app = typer.Typer(
    cls=ShellGroup,
    help="toolsim: a stable virtual tool world for tool-using LLM agents.",
    no_args_is_help=True,
)

app.command("serve")(serve)
app.command("run")(run)
app.command("bench")(bench)
# The old spelling of `toolsim planner plan`, kept working for existing scripts.
app.command("plan", hidden=True)(plan_alias)

app.add_typer(cache_app, name="cache")
app.add_typer(model_app, name="model")
app.add_typer(planner_app, name="planner")
app.add_typer(eval_app, name="eval")
app.add_typer(judge_app, name="judge")
app.add_typer(world_app, name="world")
app.add_typer(data_app, name="data")

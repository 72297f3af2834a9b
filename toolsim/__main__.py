"""``python -m toolsim``: the same as the ``toolsim`` command."""

from toolsim.cli import app

app(prog_name="toolsim")

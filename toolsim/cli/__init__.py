"""The ``toolsim`` command: a thin shell over the library.

:mod:`toolsim.cli.main` assembles :data:`app` from one module per command or
command group; :mod:`toolsim.cli.common` holds what they share. The library
never imports this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolsim.cli.main import app

__all__ = ["app"]


def __getattr__(name: str) -> Any:
    # On first use (PEP 562), so importing a command module does not assemble every command.
    if name == "app":
        from toolsim.cli.main import app

        return app
    raise AttributeError(f"module 'toolsim.cli' has no attribute {name!r}")

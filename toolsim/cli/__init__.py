"""The ``toolsim`` command: a thin shell over the library.

:mod:`toolsim.cli.main` assembles :data:`app` from one module per command or
command group; :mod:`toolsim.cli.common` holds what they share. The library
never imports this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolsim.exports import lazy_exports

if TYPE_CHECKING:
    from toolsim.cli.main import app

__all__ = ["app"]

# On first use, so importing one command module does not assemble every command.
__getattr__ = lazy_exports(__name__, {"app": "toolsim.cli.main"})

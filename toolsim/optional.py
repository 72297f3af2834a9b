"""Optional third-party modules: telling "not installed" apart from a broken import.

A feature that needs an optional package imports it where it is used and turns its
absence into a clear error naming what to install. Only that absence may be caught:
an ``ImportError`` from toolsim's own modules, or one that is not about a missing
module at all (``cannot import name ...``), is a bug and must surface as it is::

    redis = import_optional("redis", UserError("... needs pip install 'toolsim[redis]'"))
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: The top-level package whose own modules are never optional.
OWN_PACKAGE = "toolsim"


def missing_third_party(exc: ImportError) -> bool:
    """Whether ``exc`` says a third-party module is not installed (not a toolsim module)."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return False
    top = exc.name.partition(".")[0]
    return top != OWN_PACKAGE


def import_optional(name: str, missing: Exception) -> ModuleType:
    """Import the optional module ``name``; raise ``missing`` if it is not installed.

    Any other import failure (a broken install, a bug in toolsim) surfaces as it is.
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        if not missing_third_party(exc):
            raise
        raise missing from None

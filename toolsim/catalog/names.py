"""StableToolBench naming rules: category folders, standardized names, function names.

Agents see every API as one OpenAI function named ``<api>_for_<tool>`` built from
standardized names; the reference cache lays files out by category folder and
standardized tool name. These rules must match the reference exactly, so they
live in one place and are tested on real function names.
"""

from __future__ import annotations

import hashlib
import re

#: Words that would clash with Python keywords in generated client code; the
#: reference prefixes them with ``is_`` (API names only).
RESERVED_API_WORDS = frozenset({"from", "class", "return", "false", "true", "id", "and"})

#: OpenAI's limit on function names.
MAX_FUNCTION_NAME = 64

_CJK = "\u4e00-\u9fff"
_NOT_WORD = re.compile(rf"[^A-Za-z0-9_{_CJK}]")
_RUNS = re.compile(r"_+")
_FOLDER_SEPARATORS = re.compile(r"[ ,/]")


def standardize(name: str) -> str:
    """Return the standardized form of a tool or API name.

    Every character that is not a letter, digit, ``_`` or CJK ideograph becomes
    ``_``; runs of ``_`` collapse; the result is lowercased and stripped of
    ``_`` at both ends; a leading digit gets the prefix ``get_``.
    """
    text = _NOT_WORD.sub("_", name)
    text = _RUNS.sub("_", text).lower().strip("_")
    if text[:1].isdigit():
        text = "get_" + text
    return text


def standardize_api(name: str) -> str:
    """Standardize an API name, renaming reserved words to ``is_<word>``."""
    text = standardize(name)
    return f"is_{text}" if text in RESERVED_API_WORDS else text


def category_folder(category: str) -> str:
    """Return the cache folder name of a category (``"News, Media"`` -> ``"News_Media"``)."""
    text = category
    while True:
        replaced = _FOLDER_SEPARATORS.sub("_", text)
        if replaced == text:
            break
        text = replaced
    # One pass of str.replace, as the reference does: every "__" pair, not repeated.
    return text.replace("__", "_")


def function_name(tool_name: str, api_name: str) -> str:
    """Return the function name an agent sees for an API, cut to its last 64 characters.

    The reference keeps the end of long names, so the ``_for_<tool>`` suffix survives.
    """
    full = f"{standardize_api(api_name)}_for_{standardize(tool_name)}"
    return full[-MAX_FUNCTION_NAME:]


def distinct_function_name(tool_name: str, api_name: str, identity: str) -> str:
    """A function name for an API whose reference name it shares with another API in scope.

    The reference cuts long names to their last 64 characters, so two APIs of one
    tool may end alike and no client could call both. This keeps the cut name's end
    and ends it with 6 hex digits of ``identity`` (the API's category, tool and
    name): the same API always gets the same distinct name, within 64 characters.
    """
    digest = hashlib.sha256(identity.encode()).hexdigest()[:6]
    full = f"{standardize_api(api_name)}_for_{standardize(tool_name)}"
    return f"{full[-(MAX_FUNCTION_NAME - 7) :]}_{digest}"


def strip_tool_suffix(api_name: str, tool_name: str) -> str:
    """Strip a trailing ``_for_<tool>`` that clients may send inside ``api_name``."""
    suffix = f"_for_{standardize(tool_name)}"
    if api_name.endswith(suffix) and len(api_name) > len(suffix):
        return api_name[: -len(suffix)]
    return api_name

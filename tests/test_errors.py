"""The exception tree drawn in ``toolsim.errors``' docstring is the real one."""

from __future__ import annotations

import importlib

import toolsim.errors as errors

#: Modules that define errors outside toolsim.errors.
DEFINING = (
    "toolsim.files",
    "toolsim.llm.endpoint",
    "toolsim.planner.embeddings",
    "toolsim.simulator.exemplar",
    "toolsim.data.download",
)


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_every_error_is_drawn_in_the_tree_with_its_status_and_code() -> None:
    for module in DEFINING:
        importlib.import_module(module)
    doc = errors.__doc__ or ""
    drawn = [line.split("── ", 1)[1] for line in doc.splitlines() if "── " in line]
    lines = {line.split()[0]: line for line in drawn}
    toolsim_errors = {
        cls for cls in _subclasses(errors.ToolsimError) if cls.__module__.startswith("toolsim.")
    }
    assert {cls.__name__ for cls in toolsim_errors} == set(lines)
    for cls in toolsim_errors:
        if cls.__module__ == "toolsim.errors":
            assert f"{cls.status_code} {cls.code}" in lines[cls.__name__]

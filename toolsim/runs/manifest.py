"""The run manifest (``run.json``): what kind of run a folder holds, and when it ran.

Written when a run starts, again when it finishes; a resumed run must match the
manifest's configuration (:data:`SAME_RUN`). Manifests written before a field
existed read with its default (``param_names`` "documented").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from toolsim.runs.parsing import parse
from toolsim.runs.record import FORMAT

#: The fields two invocations must agree on to write into one folder.
SAME_RUN = ("agent", "planner", "budget", "costs", "agent_model", "param_names", "faults")


@dataclass(frozen=True, slots=True, kw_only=True)
class RunManifest:
    """The configuration of a run and its timestamps (the README's Output table)."""

    #: The toolsim version that wrote the run.
    toolsim: str = ""
    format: int = FORMAT
    agent: str = ""
    #: The reference method name (``CoT@1``, ``DFS_woFilter_w2``).
    method: str = ""
    planner: str | None = None
    budget: int | None = None
    #: The price table's description (``CostTable.describe()``).
    costs: dict[str, Any] | None = None
    agent_model: str | None = None
    #: The hash of the agent's prompt texts (they change between toolsim versions).
    prompt_hash: str | None = None
    action_mode: str | None = None
    #: The query files (or ``example``) the run was given.
    queries: tuple[str, ...] = ()
    #: ``max_steps``, ``width``, ``max_model_calls``, ``observation_chars``.
    limits: dict[str, Any] = field(default_factory=dict)
    #: ``documented`` or ``stb``.
    param_names: str = "documented"
    #: The fault profile the tool server injected (``profile``, ``sha256``, ``seed``); None
    #: without one.
    faults: dict[str, Any] | None = None
    #: Who answered the tool calls: the in-process simulator (backend, model, endpoint,
    #: prompt hash) or ``{"server": URL}``.
    simulator: dict[str, Any] | None = None
    started: str | None = None
    #: None while the run is unfinished.
    finished: str | None = None
    #: When the run was last resumed; absent from the file if never.
    resumed: str | None = None

    def identity(self) -> dict[str, Any]:
        """The fields of :data:`SAME_RUN`, by name (a fault profile by its content and seed,
        not by the path it was given as)."""
        same = {name: getattr(self, name) for name in SAME_RUN}
        if self.faults is not None:
            same["faults"] = {k: self.faults.get(k) for k in ("sha256", "seed")}
        return same

    @classmethod
    def from_json(cls, data: Any) -> RunManifest:
        """A manifest from ``run.json``; :class:`~toolsim.runs.parsing.InvalidRunFile` if none."""
        return parse(cls, data)

    def to_json(self) -> dict[str, Any]:
        """The manifest as ``run.json`` holds it."""
        data = asdict(self)
        data["queries"] = list(self.queries)
        if self.resumed is None:
            del data["resumed"]
        return data

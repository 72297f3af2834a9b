"""Running an agent over benchmark queries: the library behind ``toolsim run``.

:func:`run_queries` loads the queries, starts (or reaches) the tool server,
gives each query its own gate, runs the queries concurrently, and writes the
run folder (see :mod:`toolsim.runs`). One query failing or timing out
never stops the run; an interrupted run is resumed by running it again.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from toolsim.agent.actions import ActionMode, resolve_mode, uses_local_model
from toolsim.agent.agents import QueryEnd, create_agent
from toolsim.agent.episode import AgentLimits, Episode
from toolsim.agent.queries import load_queries
from toolsim.agent.tools import open_tools
from toolsim.agent.writer import Writer
from toolsim.budget import BudgetGate, CostTable, GateFactory, PricedApi
from toolsim.catalog.models import Query
from toolsim.errors import UserError
from toolsim.llm import create_chat_model
from toolsim.runs import QueryStatus, RunRecord
from toolsim.settings import Settings

#: Characters per token assumed when fitting a conversation into a small context.
CHARS_PER_TOKEN = 2.5


@dataclass
class RunConfig:
    """Everything a run needs besides settings."""

    queries: Sequence[str | Path | Query]
    out: Path
    agent: str = "cot"
    query_ids: Sequence[str] = ()
    #: A StableToolBench-compatible server; None runs toolsim in-process.
    server: str | None = None
    #: Queries solved at once; None: the agent model's concurrency setting.
    concurrency: int | None = None
    planner: str | None = None
    experience: Path | None = None
    #: Makes each query's gate; overrides ``planner``. Default: budget-only gates.
    gate_factory: GateFactory | None = None
    budget: int | None = None
    costs: CostTable = field(default_factory=CostTable)
    action_mode: ActionMode | str = ActionMode.AUTO
    #: Seconds one query may take; None: no limit.
    query_timeout: float | None = 1800.0
    limits: AgentLimits = field(default_factory=AgentLimits)


@dataclass
class RunSummary:
    """What a run did (this invocation, plus the queries it skipped as already done)."""

    out: Path
    method: str
    total: int
    skipped: int
    statuses: Counter[QueryStatus] = field(default_factory=Counter)
    model_calls: int = 0
    model_retries: int = 0
    model_retry_seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tool_calls: int = 0
    cost: int = 0
    wall_seconds: float = 0.0
    query_seconds: list[float] = field(default_factory=list)

    def add(self, record: RunRecord) -> None:
        """Count one finished query's record."""
        self.statuses[record.status] += 1
        self.model_calls += record.model_calls
        self.model_retries += record.model_retries
        self.model_retry_seconds += record.model_retry_seconds
        self.prompt_tokens += record.prompt_tokens
        self.completion_tokens += record.completion_tokens
        self.tool_calls += record.tool_calls
        self.cost += record.cost
        self.query_seconds.append(record.wall_seconds)


class RunProgress(Protocol):
    """Told how a run advances (the CLI shows a progress bar)."""

    def start(self, total: int, skipped: int) -> None:
        """``total`` queries, of which ``skipped`` were already done."""
        ...

    def advance(self, record: RunRecord) -> None:
        """One query finished with this record."""
        ...


def gate_factory_for(config: RunConfig, settings: Settings) -> GateFactory:
    """The configured gate factory: given, a planner's, or budget-only."""
    if config.gate_factory is not None:
        return config.gate_factory
    if config.planner is None:
        return lambda query, apis, budget: BudgetGate(apis, budget)
    # Imported here: a run without a planner need not load the planners' models.
    from toolsim.planner import gate_factory

    return gate_factory(
        config.planner, budget=config.budget, experience=config.experience, settings=settings
    )


def context_chars(settings: Settings, limits: AgentLimits) -> int | None:
    """The character budget of one request: set for the small local model only."""
    if limits.context_chars is not None:
        return limits.context_chars
    if not uses_local_model(settings):
        return None
    per_slot = settings.local.context // settings.local.slots
    return int((per_slot - limits.max_tokens) * CHARS_PER_TOKEN)


async def run_queries(
    config: RunConfig, settings: Settings, *, progress: RunProgress | None = None
) -> RunSummary:
    """Run the agent over the queries and write the run folder; see the module docstring."""
    started = time.monotonic()
    agent = create_agent(config.agent)
    mode = resolve_mode(config.action_mode, settings)
    limits = replace(config.limits, context_chars=context_chars(settings, config.limits))
    catalog, queries = load_queries(config.queries, config.query_ids)
    factory = gate_factory_for(config, settings)
    concurrency = config.concurrency or settings.agent.concurrency
    if concurrency < 1:
        raise UserError("--concurrency must be at least 1")
    model = create_chat_model("agent", settings)
    try:
        writer = Writer(config.out, agent, mode, config, model.name, limits)
        todo = writer.begin(queries)
        summary = RunSummary(config.out, agent.method, len(queries), len(queries) - len(todo))
        if progress is not None:
            progress.start(len(queries), summary.skipped)
        slots = asyncio.Semaphore(concurrency)
        timeout = settings.request_time_limit() + 30.0

        async with open_tools(settings, catalog, config.server, timeout=timeout) as tools:

            async def solve(query: Query) -> None:
                async with slots:
                    apis = {api.function_name: api for api in query.apis}
                    clock = time.monotonic()
                    episode: Episode | None = None
                    try:
                        priced = [
                            PricedApi(name, api, config.costs.cost(name))
                            for name, api in apis.items()
                        ]
                        gate = factory(query, priced, config.budget)
                        episode = Episode(query, apis, gate, model, tools, mode, limits)
                        end = await _solve_within(agent.solve(episode), config.query_timeout)
                    except Exception as exc:  # one bad query never stops the run
                        end = QueryEnd(QueryStatus.FAILED, f"{type(exc).__name__}: {exc}")
                    record = await writer.finish(query, episode, end, time.monotonic() - clock)
                summary.add(record)
                if progress is not None:
                    progress.advance(record)

            await asyncio.gather(*(solve(query) for query in todo))
        writer.close()
    finally:
        await model.aclose()
    summary.wall_seconds = time.monotonic() - started
    return summary


async def _solve_within(solving: Any, seconds: float | None) -> QueryEnd:
    try:
        async with asyncio.timeout(seconds) as deadline:
            return await solving
    except TimeoutError:
        if deadline.expired():
            return QueryEnd(QueryStatus.TIMEOUT, f"the query took longer than {seconds:g} s")
        raise

"""Writing a run's files as queries finish, and finding what a resumed run can skip."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import toolsim
from toolsim.agent import prompts
from toolsim.agent.actions import ActionMode
from toolsim.agent.agents import Agent, DFSDTAgent, QueryEnd
from toolsim.agent.episode import AgentLimits, Episode
from toolsim.agent.formats import AnswerInput, converted, raw_answer
from toolsim.catalog.models import Query
from toolsim.runs import QueryStatus, RunFolder, RunManifest, RunRecord

if TYPE_CHECKING:
    from toolsim.agent.runner import RunConfig


def now() -> str:
    """The current time, ISO 8601 in UTC."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class Writer:
    """Owns one run folder during a run."""

    def __init__(
        self,
        out: Path,
        agent: Agent,
        mode: ActionMode,
        config: RunConfig,
        model_name: str,
        limits: AgentLimits,
        simulator: dict[str, Any] | None = None,
    ) -> None:
        self.run = RunFolder(out)
        self.agent = agent
        self.mode = mode
        self.config = config
        self.limits = limits
        self.manifest = RunManifest(
            toolsim=toolsim.__version__,
            agent=agent.name,
            method=agent.method,
            planner=config.planner,
            budget=config.budget,
            costs=config.costs.describe(),
            agent_model=model_name,
            prompt_hash=prompts.PROMPT_HASH,
            action_mode=mode.value,
            queries=tuple(str(s) if not isinstance(s, Query) else s.group for s in config.queries),
            limits={
                "max_steps": limits.max_steps,
                "width": limits.width,
                "max_model_calls": limits.max_model_calls,
                "observation_chars": limits.observation_chars,
            },
            param_names=limits.param_names.value,
            simulator=simulator,
            started=now(),
        )
        self._converted: dict[str, dict[str, Any]] = defaultdict(dict)
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def begin(self, queries: Sequence[Query]) -> list[Query]:
        """Write the manifest and return the queries still to run (resuming a previous run)."""
        previous = self.run.check_compatible(self.manifest)
        if previous is not None:
            self.manifest = replace(
                self.manifest, started=previous.started or self.manifest.started, resumed=now()
            )
        self.run.write_manifest(self.manifest)
        todo = []
        for group in {query.group for query in queries}:
            self._converted[group].update(self.run.read_converted(group))
        method = self.agent.method
        for query in queries:
            converted = query.query_id in self._converted[query.group]
            if (
                not converted
                or self.run.finished_record(query.group, query.query_id, method) is None
            ):
                todo.append(query)
        return todo

    async def finish(
        self, query: Query, episode: Episode | None, end: QueryEnd, seconds: float
    ) -> RunRecord:
        """Write a finished query's answer, converted entry and record; return the record."""
        data = self._answer_input(query, episode)
        raw = raw_answer(data, dfs=isinstance(self.agent, DFSDTAgent))
        record = self._record(query, episode, end, seconds, data)
        group, query_id = query.group, query.query_id
        await asyncio.to_thread(self.run.write_answer, group, query_id, self.agent.method, raw)
        async with self._locks[group]:
            entries = self._converted[group]
            entries[query_id] = converted(data)
            await asyncio.to_thread(self.run.write_converted, group, dict(entries))
        # Last: a record means the query's other files are complete.
        await asyncio.to_thread(self.run.write_record, record)
        return record

    def close(self) -> None:
        """Mark the run finished (every query has a record)."""
        self.manifest = replace(self.manifest, finished=now())
        self.run.write_manifest(self.manifest)

    def _answer_input(self, query: Query, episode: Episode | None) -> AnswerInput:
        apis = list(query.apis)
        names = self.limits.param_names
        json_mode = self.mode is ActionMode.JSON
        system = prompts.json_system(apis, names) if json_mode else prompts.SYSTEM
        return AnswerInput(
            query=query.text,
            method=self.agent.method,
            functions=prompts.reference_functions(apis, names),
            system=system,
            roots=episode.roots if episode else [],
            model_calls=episode.model_calls if episode else 0,
            total_tokens=(episode.prompt_tokens + episode.completion_tokens) if episode else 0,
            max_steps=self.limits.max_steps,
            width=self.limits.width,
            max_model_calls=self.limits.max_model_calls,
        )

    def _record(
        self,
        query: Query,
        episode: Episode | None,
        end: QueryEnd,
        seconds: float,
        data: AnswerInput,
    ) -> RunRecord:
        calls = tuple(episode.calls) if episode else ()
        gate = episode.gate if episode else None
        budget = gate.budget if gate else self.config.budget
        spent = gate.spent if gate else 0
        rejected = [call for call in calls if call.rejected is not None]
        exhausted = any(call.rejected == "over_budget" for call in rejected)
        if gate is not None and budget is not None and end.status is not QueryStatus.ANSWERED:
            exhausted = exhausted or not _safe(gate.offered, [])
        final = data.final
        return RunRecord(
            query_id=query.query_id,
            group=query.group,
            agent=self.agent.name,
            method=self.agent.method,
            planner=self.config.planner,
            status=end.status,
            final_answer=final.action.final_answer if final and final.answered else "",
            error=end.error,
            model_calls=episode.model_calls if episode else 0,
            failed_model_calls=episode.failed_model_calls if episode else 0,
            model_retries=episode.model_retries if episode else 0,
            model_retry_seconds=round(episode.model_retry_seconds, 3) if episode else 0.0,
            prompt_tokens=episode.prompt_tokens if episode else 0,
            completion_tokens=episode.completion_tokens if episode else 0,
            tool_calls=len(calls) - len(rejected),
            rejected_calls=len(rejected),
            budget=budget,
            cost=spent,
            over_budget=budget is not None and spent > budget,
            budget_exhausted=exhausted,
            calls=calls,
            plan=_safe(gate.record, None) if gate else None,
            failed_steps=tuple(episode.failed_steps) if episode else (),
            wall_seconds=round(seconds, 3),
            finished=now(),
        )


def _safe(method: Any, default: Any) -> Any:
    # A planner's gate failing to describe itself must not lose the query's files.
    try:
        return method()
    except Exception as exc:
        return default if default is not None else {"error": f"{type(exc).__name__}: {exc}"}

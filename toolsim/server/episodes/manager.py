"""Episodes: a task, tool calls in a world of its own, a reward, and the end.

An :class:`Episodes` serves every door (REST, ``/virtual``, MCP, OpenEnv); all its
state lives in the cache backend's sessions (:mod:`~toolsim.server.episodes.state`),
so any replica on the same store serves any episode, and an episode outlives the
replica that opened it. Each call:

1. reads the episode (one round trip) and refuses what its limits forbid;
2. finds the reply: "not found" for an entity the episode deleted, else a reply
   simulated for this episode before, else the shared replay cache (read-only),
   else a new simulation that sees the shared world and the episode's overlay and
   is kept by the episode alone (``replay`` mode: a miss, as on ``/virtual``);
3. reconciles the reply with the overlay, and records the call, its cost and what
   it taught the overlay in one atomic change (another round trip) under the
   episode's caps.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from toolsim.answers import Answer, ToolStep
from toolsim.budget import CostTable, PricedApi, parse_costs
from toolsim.cache.backend import EXISTS, FULL, SupportsSessions
from toolsim.cache.entry import Reply, Source
from toolsim.catalog.models import ApiSpec, Query, api_id
from toolsim.catalog.tool_schemas import openai_tools
from toolsim.errors import (
    BadRequest,
    EpisodeLimit,
    EpisodeNotFound,
    NotAvailable,
    ToolNotFound,
    ToolsimError,
    UpstreamError,
    UserError,
)
from toolsim.runs.answer_format import FINISH
from toolsim.server.episodes.models import OpenEpisode
from toolsim.server.episodes.overlay import session_fields
from toolsim.server.episodes.rewards import Rewards
from toolsim.server.episodes.state import REPLY, SPACE, EpisodeState, call_record
from toolsim.server.service import CallResult, KeyedCall, ToolService
from toolsim.settings import EpisodeSettings

#: What ``source`` says of a reply the episode itself decided (an entity it deleted).
EPISODE_SOURCE = "episode"


class Episodes:
    """Opens, serves, verifies and closes episodes over a :class:`ToolService`.

    Args:
        service: The tool service whose catalog, cache and simulator episodes use.
        store: Where episodes live (the cache backend, when it supports sessions).
        settings: Time to live, limits, default prices, verify batching.
        rewards: The judge behind ``verify``; None answers verify with 501.
    """

    def __init__(
        self,
        service: ToolService,
        store: SupportsSessions,
        settings: EpisodeSettings,
        rewards: Rewards | None = None,
    ) -> None:
        self.service = service
        self.store = store
        self.settings = settings
        self.rewards = rewards
        self.default_costs = parse_costs(settings.costs)
        self.opened = 0  # counted per process, for /metrics-style checks and tests

    async def open(self, request: OpenEpisode) -> dict[str, Any]:
        """Open an episode; return its id, tools, budget (and plan) and first observation."""
        query, apis = self._task(request)
        costs = self._costs(request.costs)
        functions = [api.function_name for api in apis]
        prices = {name: costs.cost(name) for name in functions}
        plan = self._plan(request, query, apis, prices)
        episode_id = request.episode_id or secrets.token_hex(16)
        now = time.time()
        fields: dict[str, Any] = {
            "query": query.text,
            "group": query.group,
            "query_id": query.query_id,
            "apis": [list(api_id(api)) for api in apis],
            "functions": functions,
            "prices": prices,
            "seed": request.seed,
            "budget": request.budget,
            "max_calls": self.settings.max_calls,
            "plan": plan,
            "opened": now,
            "active": now,
            "param_names": request.param_names,
        }
        outcome = await asyncio.to_thread(
            self.store.session_open,
            SPACE,
            episode_id,
            fields,
            self.settings.ttl,
            limit=self.settings.max_open,
        )
        if outcome == EXISTS:
            raise BadRequest(f"episode id {episode_id!r} is in use", episode_id=episode_id)
        if outcome == FULL:
            raise EpisodeLimit(
                f"{self.settings.max_open} episodes are open; close one or wait for one to "
                "expire (TOOLSIM_EPISODES__MAX_OPEN)",
                max_open=self.settings.max_open,
            )
        self.opened += 1
        state = EpisodeState.of(episode_id, fields)
        return {
            "episode_id": episode_id,
            "query": query.text,
            "group": query.group,
            "query_id": query.query_id,
            "seed": request.seed,
            "tools": openai_tools(apis, request.param_names),
            "budget": state.budget_view(),
            "prices": prices,
            "plan": plan,
            "observation": {"query": query.text, "functions": functions},
            "expires_in": self.settings.ttl,
        }

    def _task(self, request: OpenEpisode) -> tuple[Query, list[ApiSpec]]:
        """The query and APIs an opening request names (see :class:`OpenEpisode`)."""
        catalog = self.service.catalog
        if request.query is not None:
            if request.group is not None or request.query_id is not None:
                raise BadRequest("give a loaded query (group, query_id) or a free query, not both")
            apis: list[ApiSpec] = []
            if request.tools:
                apis += catalog.tools_named(request.tools)
            for name in request.functions or ():
                apis.append(catalog.by_function(name))
            if not apis:
                raise BadRequest("a free query needs 'tools' or 'functions' it may call")
            unique = list({api_id(api): api for api in apis}.values())
            return Query(query_id="", text=request.query, apis=tuple(unique)), unique
        if request.tools or request.functions:
            raise BadRequest("'tools' and 'functions' go with a free 'query'")
        if (request.group is None) != (request.query_id is None):
            raise BadRequest("give both 'group' and 'query_id' to name a loaded query")
        if request.group is not None and request.query_id is not None:
            query = catalog.query(request.group, request.query_id)
        else:
            loaded = sorted(catalog.queries)
            if not loaded:
                raise BadRequest("no queries are loaded: give a free 'query' with its 'tools'")
            # The seed picks the task, the same one every time (random: no seed given).
            pick = random.Random(request.seed).randrange(len(loaded))
            query = catalog.queries[loaded[pick]]
        # A query's own copy may lack details the catalog merged in from elsewhere.
        apis = [catalog.resolve(a.category, a.tool_name, a.name) for a in query.apis]
        return query, apis

    def _costs(self, given: str | dict[str, int] | None) -> CostTable:
        if given is None:
            return self.default_costs
        if isinstance(given, dict):
            try:
                return CostTable(prices=given, source="the episode's prices")
            except UserError as exc:
                raise BadRequest(exc.message) from None
        if not given.startswith("seed:"):
            # A name from a request never becomes a file path.
            raise BadRequest("costs: give seed:N, seed:N:LOW-HIGH or {function: price}")
        try:
            return parse_costs(given)
        except UserError as exc:
            raise BadRequest(exc.message) from None

    def _plan(
        self, request: OpenEpisode, query: Query, apis: Sequence[ApiSpec], prices: dict[str, int]
    ) -> dict[str, Any] | None:
        """The named planner's plan for the episode's budget (no past experience)."""
        if request.planner is None:
            return None
        from toolsim.planner import Experience, get_planner

        try:
            planner = get_planner(request.planner)
        except UserError as exc:
            raise BadRequest(exc.message) from None
        if planner.needs_budget and request.budget is None:
            raise BadRequest(f"planner {request.planner!r} needs a 'budget'")
        priced = [PricedApi(api.function_name, api, prices[api.function_name]) for api in apis]
        plan = planner.plan(query, priced, request.budget, Experience())
        return None if plan is None else plan.to_json()

    async def state(self, episode_id: str, *, log: bool = False) -> tuple[EpisodeState, list]:
        """The episode (and its call log if asked); :class:`EpisodeNotFound` if there is none."""
        session = await asyncio.to_thread(self.store.session_read, SPACE, episode_id, log=log)
        if session is None:
            raise EpisodeNotFound(
                f"no open episode {episode_id!r} (never opened, closed, or idle for over "
                f"{self.settings.ttl:g} s)",
                episode_id=episode_id,
            )
        return EpisodeState.of(episode_id, session.fields), session.log

    def tools(self, state: EpisodeState) -> list[dict[str, Any]]:
        """The episode's tools as OpenAI tool schemas (named as at its opening)."""
        apis = [self.service.catalog.get(ref) for ref in state.apis]
        return openai_tools(apis, state.param_names)

    def api_of(self, state: EpisodeState, function: str) -> ApiSpec:
        """The API an episode's function name stands for; :class:`ToolNotFound` if not its own."""
        apis = [self.service.catalog.get(ref) for ref in state.apis]
        return self.service.catalog.by_function(function, within=apis)

    async def call(
        self, episode_id: str, api: ApiSpec | str, arguments: dict[str, Any]
    ) -> CallResult:
        """Answer one tool call inside an episode (see the module docstring)."""
        state, _log = await self.state(episode_id)
        if isinstance(api, str):
            api = self.api_of(state, api)
        elif api_id(api) not in state.apis:
            raise ToolNotFound(
                f"{api.function_name} is not a tool of episode {episode_id}",
                function=api.function_name,
                episode_id=episode_id,
            )
        function = api.function_name
        price = state.price(function)
        self._check_limits(state, price)
        call = self.service.key_call(api, arguments)
        key, normalized = call.key, call.arguments
        overlay = state.overlay
        kept: dict[str, Any] = {}
        learned: dict[str, dict[str, Any]] = {}
        deleted = overlay.deleted(api, normalized)
        if deleted is not None:
            reply = Reply(error=f"not found: {deleted!r} was deleted in this episode")
            source, cached, logged = Source.SIMULATED, True, EPISODE_SOURCE
        else:
            reply, source, cached = await self._reply(state, call, kept)
            reply = overlay.serve(api, normalized, key, reply)
            learned = overlay.learn(api, normalized, key, reply, source, fresh=not cached)
            logged = source.value
        caps: dict[str, float] = {"calls": state.max_calls}
        if state.budget is not None:
            caps["cost"] = state.budget
        change = await asyncio.to_thread(
            self.store.session_change,
            SPACE,
            episode_id,
            ttl=self.settings.ttl,
            fields={**kept, **session_fields(learned), "active": time.time()},
            add={"calls": 1, "cost": price},
            caps=caps,
            append=[call_record(function, normalized, reply, logged, cached=cached, cost=price)],
        )
        if not change.found:
            raise EpisodeNotFound(f"episode {episode_id!r} ended during the call")
        if change.capped is not None:
            # Another call of this episode took what was left meanwhile.
            raise self._limit(change.capped, state, price)
        return CallResult(reply, source, cached, key)

    async def _reply(
        self, state: EpisodeState, call: KeyedCall, kept: dict[str, Any]
    ) -> tuple[Reply, Source, bool]:
        """The reply before the overlay's say: the episode's own, the shared one, or new.

        A fault profile's faults come first, as on every door. A new simulation is added
        to ``kept`` (the session fields to write).
        """
        api, key = call.api, call.key
        if self.service.faults is not None:
            await self.service.meet_faults(api, key)
        own = state.replies.get(key)
        if own is not None:
            return Reply(error=own["error"], response=own["response"]), Source(own["source"]), True
        hit = await self.service.stored_hit(api, key)
        if hit is not None:
            return hit.reply(), hit.source, True
        world = state.overlay.world(self.service.world)
        simulation = await self.service.simulate_apart(call, world)
        kept[REPLY + key] = {
            "error": simulation.reply.error,
            "response": simulation.reply.response,
            "source": simulation.source.value,
        }
        return simulation.reply, simulation.source, False

    def _check_limits(self, state: EpisodeState, price: int) -> None:
        if state.calls + 1 > state.max_calls:
            raise self._limit("calls", state, price)
        if state.budget is not None and state.cost + price > state.budget:
            raise self._limit("cost", state, price)

    def _limit(self, counter: str, state: EpisodeState, price: int) -> EpisodeLimit:
        if counter == "calls":
            return EpisodeLimit(
                f"episode {state.episode_id} made its {state.max_calls} calls "
                "(TOOLSIM_EPISODES__MAX_CALLS)",
                max_calls=state.max_calls,
            )
        left = None if state.budget is None else state.budget - state.cost
        return EpisodeLimit(
            f"over budget: this call costs {price}, {left:g} of {state.budget} is left",
            budget=state.budget,
            cost=price,
        )

    async def view(self, episode_id: str) -> dict[str, Any]:
        """What the episode did: its calls, cost, budget left and verdict."""
        state, log = await self.state(episode_id, log=True)
        return {
            "episode_id": episode_id,
            "query": state.query,
            "group": state.group,
            "query_id": state.query_id,
            "seed": state.seed,
            "functions": list(state.functions),
            "calls": log,
            "budget": state.budget_view(),
            "plan": state.plan,
            "status": "verified" if state.verdict is not None else "open",
            "answer": state.answer,
            "verdict": state.verdict,
            "expires_in": state.expires_in(self.settings.ttl),
        }

    async def verify(self, episode_id: str, answer: str, give_up: bool = False) -> dict[str, Any]:
        """The reward for the episode's final answer, from the judge (kept by the episode)."""
        # An unknown episode is a 404 whatever this server can judge with.
        state, log = await self.state(episode_id, log=True)
        if self.rewards is None:
            raise NotAvailable(
                "this server was given no judge to verify with "
                "(`toolsim serve` wires in TOOLSIM_JUDGE__BACKEND)"
            )
        submitted = {"answer": answer, "give_up": give_up}
        if state.verdict is not None and state.answer == submitted:
            return {"episode_id": episode_id, **state.verdict}
        judged = answer_of(state, log, answer, give_up)
        try:
            verdict = await self.rewards.verdict(judged)
        except ToolsimError:
            raise
        except Exception as exc:
            raise UpstreamError(f"the judge failed: {exc}") from exc
        verdict = {**verdict, "judge": self.rewards.judge.identity()}
        change = await asyncio.to_thread(
            self.store.session_change,
            SPACE,
            episode_id,
            ttl=self.settings.ttl,
            fields={"verdict": verdict, "answer": submitted, "active": time.time()},
        )
        if not change.found:
            raise EpisodeNotFound(f"episode {episode_id!r} ended during the verify")
        return {"episode_id": episode_id, **verdict}

    async def close(self, episode_id: str) -> None:
        """End an episode and forget its state; :class:`EpisodeNotFound` if there is none."""
        if not await asyncio.to_thread(self.store.session_close, SPACE, episode_id):
            raise EpisodeNotFound(f"no open episode {episode_id!r}", episode_id=episode_id)

    async def count(self) -> int:
        """Episodes open now, over every replica."""
        return await asyncio.to_thread(self.store.session_count, SPACE)


def episodes_of(episodes: Episodes | None) -> Episodes:
    """``episodes``, or :class:`NotAvailable` when this server has none."""
    if episodes is None:
        raise NotAvailable(
            "episodes are off on this server (TOOLSIM_EPISODES__ENABLED, and a cache backend "
            "with sessions: disk, memory or redis)"
        )
    return episodes


def answer_of(state: EpisodeState, log: list, final_answer: str, give_up: bool) -> Answer:
    """The episode as an answer a judge reads: its query, calls and final answer."""
    steps = tuple(
        ToolStep(
            function=call["function"],
            arguments=orjson.dumps(call["arguments"]).decode(),
            response=orjson.dumps(
                {"error": call["error"], "response": call["response"]},
                option=orjson.OPT_NON_STR_KEYS,
            ).decode(),
            error=call["error"],
        )
        for call in log
    )
    answered = bool(final_answer.strip()) and not give_up
    return Answer(
        query_id=state.query_id or state.episode_id,
        group=state.group or "episode",
        query=state.query,
        method="episode",
        final_answer=final_answer,
        finished=answered,
        steps=steps,
        available_tools=tuple({"name": name} for name in (*state.functions, FINISH)),
        details=None,
        record=None,
        source=Path(f"episode-{state.episode_id}"),
    )

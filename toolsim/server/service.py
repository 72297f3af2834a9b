"""The core of a tool call, free of HTTP: validate, look up, simulate, store.

Routes are thin shells over :class:`ToolService`, so tests and the in-process
agent runner can call it directly.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from typing import Any

from toolsim.cache.backend import CacheBackend, SupportsLock
from toolsim.cache.entry import CacheEntry, Reply, Source
from toolsim.cache.keys import cache_key
from toolsim.cache.leases import leased
from toolsim.cache.modes import CacheMode
from toolsim.cache.nearest import closest_recorded
from toolsim.catalog.catalog import Catalog
from toolsim.catalog.models import ApiSpec, api_id
from toolsim.catalog.parameters import Bound
from toolsim.errors import (
    CacheMiss,
    InjectedFault,
    InvalidArguments,
    ToolsimError,
    UpstreamError,
)
from toolsim.server.counters import SharedCounters
from toolsim.server.faults import FaultInjector
from toolsim.server.hits import HitMemory, PreparedHit
from toolsim.server.metrics import Measurements
from toolsim.server.stats import DELAY_MS, DELAYED, ERROR, FAULT, MISS, CallStats
from toolsim.simulator.base import Simulation, SimulationRequest, Simulator
from toolsim.simulator.examples import select_examples
from toolsim.simulator.exemplars import ExemplarStore
from toolsim.singleflight import SingleFlight
from toolsim.world import World, prepare, settle


@dataclass(frozen=True, slots=True)
class KeyedCall:
    """A call validated and keyed once: what every later step of answering it reads."""

    api: ApiSpec
    #: The arguments canonicalised under their documented names (and how they were sent).
    bound: Bound
    key: str

    @property
    def arguments(self) -> dict[str, Any]:
        """The canonical arguments."""
        return self.bound.arguments


@dataclass(frozen=True, slots=True)
class CallResult:
    """A reply and how it was obtained."""

    reply: Reply
    source: Source
    cached: bool
    key: str
    #: How the arguments break the API's documentation, for a call answered anyway because
    #: a reference cache recorded it so (as the reference server replays it).
    problems: tuple[str, ...] = ()


class ToolService:
    """Answers tool calls from the cache, or through the simulator on a miss."""

    def __init__(
        self,
        catalog: Catalog,
        backend: CacheBackend,
        simulator: Simulator,
        mode: CacheMode = CacheMode.RECORD,
        *,
        replay_suggestions: int = 3,
        memory_entries: int = 10_000,
        memory_bytes: int = 256 * 1024 * 1024,
        flight_lock_seconds: float = 180.0,
        world: World | None = None,
        exemplars: ExemplarStore | None = None,
        faults: FaultInjector | None = None,
    ) -> None:
        self.catalog = catalog
        self.backend = backend
        self.simulator = simulator
        self.mode = mode
        self.replay_suggestions = replay_suggestions
        self.stats = CallStats()
        self.metrics = Measurements()
        self.counters = SharedCounters(self.stats, self.metrics, backend)
        # Hot replies kept in process memory, ready to send: a stored reply never
        # changes in record/replay mode, and this saves a storage read per hit.
        self.memory = HitMemory(memory_entries, memory_bytes)
        # Concurrent identical misses wait on the first one's simulation.
        self._flights: SingleFlight[Simulation] = SingleFlight()
        # Episodes' own simulations (simulate_apart), keyed by call and what the simulator sees.
        self._apart: SingleFlight[Simulation] = SingleFlight()
        # Across processes sharing the backend: see _simulate_across_workers.
        self.flight_lock_seconds = flight_lock_seconds
        # The entity graph: consulted and fed on misses only (see toolsim.world).
        self.world = world
        # Recorded replies to adapt on a miss (the store's own, unless told otherwise).
        self.exemplars = exemplars if exemplars is not None else ExemplarStore([backend])
        # Seeded faults and latency, applied before the cache is read (never stored).
        self.faults = faults

    @property
    def mode(self) -> CacheMode:
        """How this service uses its cache."""
        return self._mode

    @mode.setter
    def mode(self, mode: CacheMode) -> None:
        self._mode = mode
        #: Whether this mode answers from stored entries (asked on every hit: an
        #: enum property costs more).
        self.answers_hits = mode.reads

    def key_call(self, api: ApiSpec, arguments: dict[str, Any]) -> KeyedCall:
        """Validate and canonicalise ``arguments``, and key the call.

        The one step every door (``/virtual``'s hit path included) takes from what a
        client sent to the cache key; raises :class:`InvalidArguments`, which the door
        hands to :meth:`answer_invalid` (a reference cache may have recorded the call).
        """
        bound = api.signature.validated(arguments, api.name, api.function_name)
        return KeyedCall(api, bound, cache_key(api, bound.arguments))

    def kept_hit(self, key: str) -> PreparedHit | None:
        """The hit of ``key`` if process memory has it and this mode answers hits; counted."""
        hit = self.memory.get(key) if self.answers_hits else None
        if hit is not None:
            self.stats.count_hit(hit.counter_key)
        return hit

    async def call(self, api: ApiSpec, arguments: dict[str, Any]) -> CallResult:
        """Answer one call; raise a :class:`ToolsimError` when no valid reply exists."""
        try:
            call = self.key_call(api, arguments)
        except InvalidArguments as invalid:
            return await self.answer_invalid(api, arguments, invalid)
        return await self.answer(call)

    async def answer(self, call: KeyedCall) -> CallResult:
        """Answer a call already keyed (:meth:`key_call`); raise :class:`ToolsimError` if no
        valid reply exists."""
        api, key = call.api, call.key
        try:
            if self.faults is not None:
                await self.meet_faults(api, key)
            hit = await self.stored_hit(api, key)
            if hit is not None:
                return CallResult(hit.reply(), hit.source, True, key)
            if not self.mode.simulates:
                raise await asyncio.to_thread(self._replay_miss, api, call.bound)
            simulation = await self._simulate_once(api, call.arguments, key)
        except InjectedFault as fault:
            self.stats.record(api.function_name, FAULT, fault.kind)
            raise
        except ToolsimError:
            self.stats.record(api.function_name, ERROR)
            raise
        self.stats.record(api.function_name, MISS, simulation.source)
        return CallResult(simulation.reply, simulation.source, False, key)

    async def meet_faults(self, api: ApiSpec, key: str) -> None:
        """Wait the profile's latency for this call and raise its fault, if it drew one
        (every door meets them, episodes too)."""
        assert self.faults is not None
        drawn = await self.faults.next_draw(api, key)
        if drawn.delay > 0:
            self.stats.record(api.function_name, DELAYED)
            self.stats.record(api.function_name, DELAY_MS, amount=round(drawn.delay * 1000))
        await self.faults.meet(api, key, drawn)

    async def answer_invalid(
        self, api: ApiSpec, arguments: dict[str, Any], invalid: InvalidArguments
    ) -> CallResult:
        """The recorded reply of a call whose arguments break the documentation; else raise
        ``invalid`` (counted as an error).

        Only an import (a reference cache) stores such a call (a simulation never runs
        for invalid arguments), and the reference server replays it: so does toolsim,
        saying what is wrong with the arguments (:attr:`CallResult.problems`). A stored
        call whose own arguments are valid is no such record (its key may equal an
        invalid call's, as when both spellings of a parameter are sent).
        """
        if self.answers_hits:
            key = cache_key(api, api.signature.canonical(arguments))
            entry = await asyncio.to_thread(self.backend.get, key)
            if entry is not None and api.signature.bind(entry.arguments).problems:
                hit = PreparedHit.of(key, api.function_name, entry.reply, entry.source)
                self.stats.count_hit(hit.counter_key)
                problems = tuple(invalid.details.get("problems", ()))
                return CallResult(entry.reply, entry.source, True, key, problems)
        self.stats.record(api.function_name, ERROR)
        raise invalid

    async def stored_hit(self, api: ApiSpec, key: str) -> PreparedHit | None:
        """The stored reply of ``key`` (process memory first), counted as a hit; None on a
        miss, or when this mode answers nothing from storage."""
        if not self.answers_hits:
            return None
        hit = self.memory.get(key) or await self._read_stored(api, key)
        if hit is not None:
            self.stats.count_hit(hit.counter_key)
        return hit

    async def simulate_apart(self, call: KeyedCall, world: World | None) -> Simulation:
        """Simulate a call whose reply the caller keeps to itself (an episode's own state).

        The shared cache and world are read, never written: ``world`` (the shared one,
        or one with the caller's state layered over it) gives the known entities and
        reconciles the reply. Identical requests in flight share one simulation. In
        ``replay`` mode this raises the :class:`CacheMiss` a stored call would.
        """
        api = call.api
        if not self.mode.simulates:
            raise await asyncio.to_thread(self._replay_miss, api, call.bound)
        try:
            request = await self._request(api, call.arguments, call.key, world)
            # Two requests alike in what they show the simulator get the same reply.
            known = hashlib.sha256(repr(request.known).encode()).hexdigest()
            simulation, _started = await self._apart.run(
                f"{call.key}:{known}", lambda: self._simulated(request, world)
            )
        except ToolsimError:
            self.stats.record(api.function_name, ERROR)
            raise
        self.stats.record(api.function_name, MISS, simulation.source)
        return simulation

    async def _read_stored(self, api: ApiSpec, key: str) -> PreparedHit | None:
        # In a thread: a disk or network read must not hold up the hits being
        # answered meanwhile (a Redis round trip would stall every one of them).
        entry = await asyncio.to_thread(self.backend.get, key)
        if entry is None:
            return None
        hit = PreparedHit.of(key, api.function_name, entry.reply, entry.source)
        self.memory.keep(hit)
        return hit

    async def _simulate_once(
        self, api: ApiSpec, normalized: dict[str, Any], key: str
    ) -> Simulation:
        # A client that disconnects does not cancel the answer others wait for.
        simulation, _started = await self._flights.run(
            key, lambda: self._simulate(api, normalized, key)
        )
        return simulation

    async def _simulate(self, api: ApiSpec, normalized: dict[str, Any], key: str) -> Simulation:
        backend = self.backend
        if self.mode is CacheMode.RECORD and isinstance(backend, SupportsLock):
            return await self._simulate_across_workers(backend, api, normalized, key)
        return await self._simulate_here(api, normalized, key)

    async def _simulate_across_workers(
        self, backend: SupportsLock, api: ApiSpec, normalized: dict[str, Any], key: str
    ) -> Simulation:
        """Single-flight across every worker sharing the backend, through its per-key lock.

        Take the lock (waiting at most ``flight_lock_seconds``, without holding a
        thread: see :mod:`toolsim.cache.leases`), look again (the worker that held it
        may have stored this very call), and only then simulate and store, before
        releasing. If the wait runs out, simulate anyway: the lock saves work, it is
        not needed for a correct cache. Only in ``record`` mode: ``refresh`` must
        simulate, ``off`` stores nothing to share.
        """
        async with leased(backend, key, wait=self.flight_lock_seconds):
            stored = await asyncio.to_thread(self.backend.get, key)
            if stored is not None:
                return Simulation(
                    reply=stored.reply,
                    source=stored.source,
                    simulator=stored.simulator,
                    model=stored.model,
                    prompt_hash=stored.prompt_hash,
                    examples=tuple(stored.examples),
                )
            return await self._simulate_here(api, normalized, key)

    async def _simulate_here(
        self, api: ApiSpec, normalized: dict[str, Any], key: str
    ) -> Simulation:
        request = await self._request(api, normalized, key, self.world)
        simulation = await self._simulated(request, None)
        if self.mode.writes or self.world is not None:
            simulation = await asyncio.to_thread(self._settle, request, simulation)
        if self.mode.writes:
            if self.answers_hits:
                # Stored: the next identical call is a hit, ready to send.
                self.memory.keep(
                    PreparedHit.of(key, api.function_name, simulation.reply, simulation.source)
                )
            else:
                self.memory.forget(key)
        return simulation

    async def _request(
        self, api: ApiSpec, normalized: dict[str, Any], key: str, world: World | None
    ) -> SimulationRequest:
        """The simulator's request for a call: stored examples, and what ``world`` knows."""
        # Storage reads on a miss may touch many rows: keep them off the event loop so
        # hits are served meanwhile.
        wanted = getattr(self.simulator, "example_count", 0)
        examples: tuple[tuple[str, CacheEntry], ...] = ()
        if wanted > 0:
            examples = await asyncio.to_thread(
                select_examples,
                self.backend,
                api_id(api),
                normalized,
                limit=wanted,
                char_budget=getattr(self.simulator, "example_chars", 0),
                exclude=key,
            )
        exemplars: tuple[tuple[str, CacheEntry], ...] = ()
        if (wanted := getattr(self.simulator, "exemplar_count", 0)) > 0:
            exemplars = await asyncio.to_thread(
                self.exemplars.nearest, api_id(api), normalized, limit=wanted, exclude=key
            )
        request = SimulationRequest(
            api=api, arguments=normalized, key=key, examples=examples, exemplars=exemplars
        )
        if world is not None:
            request = await asyncio.to_thread(prepare, world, request)
        return request

    async def _simulated(self, request: SimulationRequest, world: World | None) -> Simulation:
        """The simulator's reply, timed; reconciled with ``world`` when one is given."""
        started = time.perf_counter()
        try:
            simulation = await self.simulator.simulate(request)
        except ToolsimError:
            raise
        except Exception as exc:
            raise UpstreamError(
                f"simulator {self.simulator.name!r} failed: {exc}", simulator=self.simulator.name
            ) from exc
        finally:
            self.metrics.observe_simulation(time.perf_counter() - started)
        if world is not None:
            simulation = await asyncio.to_thread(settle, world, request, simulation)
        return simulation

    def _settle(self, request: SimulationRequest, simulation: Simulation) -> Simulation:
        """Reconcile a new reply with the world, then store it: the world learns it first,
        so an acknowledged reply's entities are never missing from the world."""
        if self.world is not None:
            simulation = settle(self.world, request, simulation)
        if self.mode.writes:
            entry = _entry(request.api, request.arguments, simulation)
            if self.world is not None:
                self.world.observe(request.key, entry)
            self.backend.put(request.key, entry)
        return simulation

    def _replay_miss(self, api: ApiSpec, bound: Bound) -> CacheMiss:
        normalized = bound.arguments
        ref = api_id(api)
        close = closest_recorded(self.backend, ref, normalized, self.replay_suggestions)
        # Arguments are compared under documented names: say which client names became which.
        renamed = ", ".join(f"{sent} -> {name}" for sent, name in bound.renamed)
        sent_as = f" (StableToolBench names read as: {renamed})" if renamed else ""
        if close:
            hint = "; ".join(
                f"{c['arguments']} (differs in: {', '.join(c['differs']) or 'nothing'})"
                for c in close
            )
            message = (
                f"no recorded reply for {api.function_name} with {normalized}{sent_as}; "
                f"closest: {hint}"
            )
        else:
            message = (
                f"no recorded reply for {api.function_name}{sent_as}: nothing recorded for this API"
            )
        return CacheMiss(
            message,
            function=api.function_name,
            arguments=normalized,
            closest=close,
            renamed=dict(bound.renamed),
        )


def _entry(api: ApiSpec, normalized: dict[str, Any], simulation: Simulation) -> CacheEntry:
    return CacheEntry.of(
        api,
        normalized,
        simulation.reply,
        simulation.source,
        simulator=simulation.simulator,
        model=simulation.model,
        prompt_hash=simulation.prompt_hash,
        examples=list(simulation.examples),
        reconciled=list(simulation.reconciled),
    )

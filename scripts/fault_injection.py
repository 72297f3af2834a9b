"""Fault injection on loopback: each fault must end with no stall, no changed number and a
clear message.

Real processes throughout (``toolsim serve`` / ``run`` / ``eval`` / ``cache`` as a user
runs them, a real ``redis-server``), with a scripted OpenAI-compatible model server in
this process (every answer takes ``--delay`` seconds; the agent's model calls one tool,
then answers). Scenarios:

1. **kill -9 of a toolsim replica** while it simulates: two replicas on one Redis; 20
   distinct calls to the first, then the same 20 to the second, then the first is
   killed. The second must answer every call (the dead one's locks expire within their
   10 s lease), give the replies the first acknowledged unchanged, and take no call
   longer than lease + simulation.
2. **kill -9 of Redis** (append-only file on): replies acknowledged, Redis killed, a
   call gets a clear error at once; Redis restarted from its folder, every
   acknowledged reply is there and served unchanged. A Redis without an append-only
   file is named at ``toolsim serve``'s start.
3. **a damaged cache**: 8 KiB overwritten in the middle of a diskcache file: ``serve``
   refuses to start naming the file; ``cache repair`` salvages; the salvaged replies
   are the stored ones.
4. **a damaged answer file**: one of two groups' converted answers cut short:
   ``eval pass-rate`` exits 1 naming it; with ``--skip-bad-files`` the intact group's
   numbers equal those of an evaluation of the intact group alone.
5. **an unreachable model**: the agent's model down: ``run`` exits 1 before any query
   naming it; the simulator's model failing during a run: the queries end as
   infrastructure failures (not API replies), ``run`` exits 1 listing them.

Prints one line per check (PASS/FAIL) and the figures; exits 1 if any check failed.

Usage: python scripts/fault_injection.py [--delay 2] [--only 1,3] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

WEATHER = {"category": "Weather", "tool_name": "SkyCast Weather", "api_name": "Current Weather"}
FUNCTION = "current_weather_for_skycast_weather"
#: The cross-worker lock's lease (toolsim.cache.leases.LEASE).
LEASE = 10.0

results: list[dict[str, Any]] = []


def check(scenario: str, what: str, passed: bool, **figures: Any) -> None:
    """Record and print one check."""
    results.append({"scenario": scenario, "check": what, "passed": passed, **figures})
    shown = ", ".join(f"{name} {value}" for name, value in figures.items())
    print(f"{'PASS' if passed else 'FAIL'}  [{scenario}] {what}" + (f" ({shown})" if shown else ""))


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(test: Callable[[], Any], seconds: float, what: str) -> Any:
    """Poll ``test`` (a real process starting) until it is truthy; raise after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            found = test()
        except Exception:  # not up yet (connection refused, ...)
            found = None
        if found:
            return found
        time.sleep(0.1)
    raise RuntimeError(f"{what} within {seconds:g} s")


# The scripted model server.


class ModelStub:
    """An OpenAI-compatible server: answers after ``delay`` s, numbering its replies.

    A request offering tools is the agent's: it calls the weather tool, then (once it
    saw a tool reply) answers. Anything else is the simulator's. ``failing`` makes
    every simulator request fail with HTTP 503.
    """

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.failing = False
        self.requests = 0
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    async def _chat(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.requests += 1
        serial = self.requests
        if body.get("tools"):
            seen_tool = any(m.get("role") == "tool" for m in body["messages"])
            if seen_tool:
                call = {
                    "name": "Finish",
                    "arguments": '{"return_type": "give_answer", "final_answer": "It is mild."}',
                }
            else:
                call = {"name": FUNCTION, "arguments": json.dumps({"city": f"City {serial}"})}
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": f"c{serial}", "type": "function", "function": call}],
            }
            return JSONResponse(_completion(body, message))
        await asyncio.sleep(self.delay)
        if self.failing:
            return JSONResponse({"error": {"message": "model overloaded"}}, status_code=503)
        content = json.dumps({"error": "", "response": {"temperature": serial}})
        return JSONResponse(_completion(body, {"role": "assistant", "content": content}))

    async def _models(self, request: Request) -> JSONResponse:
        return JSONResponse({"object": "list", "data": [{"id": "stub", "object": "model"}]})

    def start(self) -> None:
        """Serve in a thread."""
        app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/models", self._models),
            ]
        )
        config = uvicorn.Config(app, port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        wait_until(lambda: httpx.get(f"{self.base_url}/models").status_code == 200, 20, "stub")

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.should_exit = True
            assert self._thread is not None
            self._thread.join(10)


def _completion(body: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    reason = "tool_calls" if message.get("tool_calls") else "stop"
    return {
        "id": "stub",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model"),
        "choices": [{"index": 0, "message": message, "finish_reason": reason}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


# Processes.


def base_env(home: Path, **settings: str) -> dict[str, str]:
    """The environment of a toolsim process: no caller's TOOLSIM_*, this home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOOLSIM_")}
    return env | {"TOOLSIM_HOME": str(home)} | settings


def toolsim(*args: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    """Run a toolsim command to its end."""
    return subprocess.run(
        [sys.executable, "-m", "toolsim", *args],
        env=env | {"COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def serving(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen, str]]:
    """``toolsim serve`` in its own process group on a free port; yields (process, base)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "toolsim", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{base}/healthz").status_code == 200, 60, "toolsim serve")
        yield process, base
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(30)


@contextmanager
def redis_server(folder: Path, *, appendonly: bool = True) -> Iterator[dict[str, Any]]:
    """A ``redis-server`` on a free port keeping its files in ``folder``."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server not found (apt-get install redis-server)")
    folder.mkdir(parents=True, exist_ok=True)
    state: dict[str, Any] = {"port": free_port(), "folder": folder}
    state["url"] = f"redis://127.0.0.1:{state['port']}/0"
    arguments = [binary, "--port", str(state["port"]), "--bind", "127.0.0.1", "--dir", str(folder)]
    arguments += [
        "--appendonly",
        "yes" if appendonly else "no",
        "--save",
        "" if appendonly else "3600 1",
    ]
    state["command"] = arguments

    def start() -> None:
        state["process"] = subprocess.Popen(arguments, stdout=subprocess.DEVNULL)
        import redis

        client = redis.Redis.from_url(state["url"])
        wait_until(client.ping, 30, "redis-server")
        client.close()

    state["start"] = start
    start()
    try:
        yield state
    finally:
        if state["process"].poll() is None:
            state["process"].kill()
            state["process"].wait(10)


def virtual(base: str, city: str, timeout: float = 120) -> tuple[float, dict[str, Any]]:
    """One ``/virtual`` call: (seconds, reply)."""
    started = time.monotonic()
    reply = httpx.post(
        f"{base}/virtual", json={**WEATHER, "tool_input": {"city": city}}, timeout=timeout
    )
    return time.monotonic() - started, reply.json()


# The scenarios.


def replica_killed(work: Path, delay: float) -> None:
    """1. kill -9 of a toolsim replica holding the locks of calls it simulates."""
    name = "kill -9 toolsim"
    stub = ModelStub(delay)
    stub.start()
    try:
        with redis_server(work / "redis1") as redis:
            env = base_env(
                work / "home1",
                TOOLSIM_CACHE__URL=redis["url"],
                TOOLSIM_SIMULATOR__BASE_URL=stub.base_url,
                TOOLSIM_SIMULATOR__MODEL="stub",
                TOOLSIM_SIMULATOR__CONCURRENCY="32",
            )
            cities = [f"Kill {n}" for n in range(20)]
            with serving(env) as (first, a), serving(env) as (_, b), ThreadPoolExecutor(40) as pool:
                on_a = [pool.submit(virtual, a, city) for city in cities]
                wait_until(lambda: stub.requests >= 10, 60, "the first replica simulating")
                on_b = [pool.submit(virtual, b, city) for city in cities]
                time.sleep(0.5)  # the second replica's calls reach their locks
                os.killpg(first.pid, signal.SIGKILL)
                killed_at = time.monotonic()
                acknowledged = {}
                for city, future in zip(cities, on_a, strict=True):
                    try:
                        acknowledged[city] = future.result()[1]
                    except httpx.HTTPError:
                        pass  # cut by the kill
                answered = [future.result() for future in on_b]
                finished = time.monotonic() - killed_at
        walls = [seconds for seconds, _ in answered]
        errors = [reply["error"] for _, reply in answered if reply["error"]]
        same = all(answered[cities.index(c)][1] == reply for c, reply in acknowledged.items())
        check(
            name,
            "the surviving replica answers every call",
            not errors,
            calls=len(answered),
            errors=len(errors),
        )
        check(
            name,
            "replies the killed replica acknowledged are served unchanged",
            same,
            acknowledged=len(acknowledged),
        )
        check(
            name,
            "no stall: every call within the lease plus a simulation",
            max(walls) <= LEASE + 3 * delay + 5,
            max_call_s=round(max(walls), 1),
            after_kill_s=round(finished, 1),
            lease_s=LEASE,
        )
    finally:
        stub.stop()


def redis_killed(work: Path) -> None:
    """2. kill -9 of Redis: a clear error meanwhile, nothing acknowledged lost."""
    name = "kill -9 Redis"
    with redis_server(work / "redis2") as redis:
        env = base_env(
            work / "home2", TOOLSIM_CACHE__URL=redis["url"], TOOLSIM_SIMULATOR__BACKEND="schema"
        )
        cities = [f"Redis {n}" for n in range(200)]
        with serving(env) as (_, base):
            stored = {city: virtual(base, city)[1] for city in cities}
            redis["process"].kill()
            redis["process"].wait(10)
            seconds, down = virtual(base, "Redis 0 again", timeout=60)
            check(
                name,
                "with Redis down a call gets a clear error, at once",
                "Redis at redis://127.0.0.1" in down["error"] and seconds < 35,
                seconds=round(seconds, 2),
                error=down["error"][:80],
            )
        redis["start"]()
        with serving(env) as (_, base):  # a fresh server: nothing kept in its memory
            again = {city: virtual(base, city)[1] for city in cities}
            hits = httpx.get(f"{base}/stats").json()["total"]
        lost = sum(1 for city in cities if again[city] != stored[city])
        check(
            name,
            "after a restart every acknowledged reply is there, unchanged",
            lost == 0,
            acknowledged=len(cities),
            lost=lost,
            hits=hits.get("hits"),
        )
    with redis_server(work / "redis3", appendonly=False) as rdb:
        env = base_env(
            work / "home3", TOOLSIM_CACHE__URL=rdb["url"], TOOLSIM_SIMULATOR__BACKEND="schema"
        )
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        shown = toolsim("serve", "--port", str(taken.getsockname()[1]), env=env, timeout=120)
        taken.close()
        check(
            name,
            "a Redis without an append-only file is named at serve's start",
            "keeps no append-only file" in shown.stderr,
        )
        # What the warning is about: the same kill -9 without an append-only file.
        cities = [f"RDB {n}" for n in range(200)]
        with serving(env) as (_, base):
            stored = {city: virtual(base, city)[1] for city in cities}
        rdb["process"].kill()
        rdb["process"].wait(10)
        rdb["start"]()
        import redis

        client = redis.Redis.from_url(rdb["url"])
        kept = sum(1 for key in client.scan_iter("toolsim:e:*"))
        client.close()
        check(
            name,
            "without it, the same kill -9 loses what the last snapshot missed",
            kept < len(stored),
            acknowledged=len(stored),
            kept=kept,
        )


def cache_damaged(work: Path) -> None:
    """3. A damaged diskcache file: refused at start, repaired, replies unchanged."""
    name = "damaged cache"
    env = base_env(work / "home4", TOOLSIM_SIMULATOR__BACKEND="schema")
    with serving(env) as (_, base):
        stored = {f"Damage {n}": virtual(base, f"Damage {n}")[1] for n in range(600)}
    database = work / "home4" / "cache" / "cache.db"
    data = database.read_bytes()
    middle = len(data) // 2
    database.write_bytes(data[:middle] + b"Z" * 8192 + data[middle + 8192 :])
    refused = toolsim("serve", "--port", str(free_port()), env=env, timeout=120)
    check(
        name,
        "serve refuses to start, naming the file and the repair",
        refused.returncode == 1
        and str(database) in refused.stderr
        and "toolsim cache repair" in refused.stderr
        and "Traceback" not in refused.stderr,
    )
    repaired = toolsim("cache", "repair", env=env)
    check(
        name,
        "cache repair salvages what is readable",
        repaired.returncode == 0,
        said=repaired.stdout.strip().splitlines()[0][:100] if repaired.stdout else "",
    )
    with serving(env) as (_, base):
        again = {city: virtual(base, city)[1] for city in stored}
    kept = sum(1 for city in stored if again[city] == stored[city])
    check(
        name,
        "the salvaged replies are the stored ones (the rest simulated anew)",
        kept >= len(stored) * 0.9,
        stored=len(stored),
        unchanged=kept,
    )


def answers_damaged(work: Path) -> None:
    """4. A damaged answer file: an error naming it; skipped, no other number changes."""
    name = "damaged answer file"
    run = work / "run"
    groups = {"G1_tool": range(1, 6), "G2_tool": range(6, 11)}
    (run / "converted").mkdir(parents=True)
    manifest = {"toolsim": "0", "format": 1, "agent": "cot", "method": "CoT@1"}
    (run / "run.json").write_text(json.dumps(manifest))
    for group, ids in groups.items():
        entries = {str(n): _entry(n) for n in ids}
        (run / "converted" / f"{group}.json").write_text(json.dumps(entries))
    env = base_env(work / "home5")
    intact = work / "intact"
    (intact / "converted").mkdir(parents=True)
    (intact / "run.json").write_text(json.dumps(manifest))
    shutil.copy(run / "converted" / "G2_tool.json", intact / "converted" / "G2_tool.json")
    toolsim(
        "eval",
        "pass-rate",
        "--answers",
        str(intact),
        "--runs",
        "1",
        "--out",
        str(work / "alone"),
        env=env,
    )
    damaged = run / "converted" / "G1_tool.json"
    damaged.write_bytes(damaged.read_bytes()[:100])
    refused = toolsim(
        "eval",
        "pass-rate",
        "--answers",
        str(run),
        "--runs",
        "1",
        "--out",
        str(work / "refused"),
        env=env,
    )
    check(
        name,
        "eval exits 1 naming the file",
        refused.returncode == 1
        and str(damaged) in refused.stderr
        and "Traceback" not in refused.stderr,
    )
    skipped = toolsim(
        "eval",
        "pass-rate",
        "--answers",
        str(run),
        "--runs",
        "1",
        "--out",
        str(work / "skipped"),
        "--skip-bad-files",
        env=env,
    )
    with_skip = json.loads((work / "skipped" / "pass_rate.json").read_text())
    reference = json.loads((work / "alone" / "pass_rate.json").read_text())
    mine = with_skip["entries"][0]["groups"]["G2_tool"]["rate"]
    theirs = reference["entries"][0]["groups"]["G2_tool"]["rate"]
    check(
        name,
        "with --skip-bad-files: the skip listed, the intact group's rate unchanged",
        skipped.returncode == 0 and len(with_skip["skipped_files"]) == 1 and mine == theirs,
        sopr=mine["mean"],
        alone=theirs["mean"],
    )


def _entry(number: int) -> dict[str, Any]:
    """A converted answer: a weather call, then an answer from its reply (every third
    query gives up instead, so the rate is neither 0 nor 100)."""
    city = f"City {number}"
    reply = json.dumps({"error": "", "response": {"city": city, "temperature": 10 + number}})
    call = {"name": FUNCTION, "arguments": json.dumps({"city": city}), "response": reply}
    if number % 3:
        final = {
            "return_type": "give_answer",
            "final_answer": f"It is {10 + number} degrees in {city}.",
        }
    else:
        final = {"return_type": "give_up_and_restart"}
    finish = {"name": "Finish", "arguments": json.dumps(final), "response": ""}
    details = [
        {"role": "tool", "message": call, "next": [{"role": "tool", "message": finish, "next": []}]}
    ]
    return {
        "query": f"What is the weather in {city} right now?",
        "available_tools": [{"name": FUNCTION}, {"name": "Finish"}],
        "answer": {
            "method": "CoT@1",
            "total_steps": 2,
            "final_answer": json.dumps(final),
            "answer_details": details,
        },
    }


def model_unreachable(work: Path, delay: float) -> None:
    """5. The agent's model down; the simulator's model failing during the run."""
    name = "unreachable model"
    down = f"http://127.0.0.1:{free_port()}/v1"
    env = base_env(
        work / "home6",
        TOOLSIM_AGENT__BASE_URL=down,
        TOOLSIM_AGENT__MODEL="stub",
        TOOLSIM_SIMULATOR__BACKEND="schema",
    )
    started = time.monotonic()
    result = toolsim(
        "run", "--queries", "example", "--query-ids", "1,2", "--out", str(work / "run6"), env=env
    )
    seconds = time.monotonic() - started
    check(
        name,
        "the agent's model down: run exits 1 before any query, naming it",
        result.returncode == 1
        and f"the agent model endpoint {down} cannot be reached" in result.stderr
        and not (work / "run6" / "records").exists(),
        seconds=round(seconds, 1),
    )
    stub = ModelStub(delay)
    stub.start()
    stub.failing = True
    try:
        env = base_env(
            work / "home7",
            TOOLSIM_AGENT__BASE_URL=stub.base_url,
            TOOLSIM_AGENT__MODEL="stub",
            TOOLSIM_SIMULATOR__BASE_URL=stub.base_url,
            TOOLSIM_SIMULATOR__MODEL="stub",
            TOOLSIM_RETRY__RETRIES="0",
        )
        result = toolsim(
            "run",
            "--queries",
            "example",
            "--query-ids",
            "1,2",
            "--out",
            str(work / "run7"),
            env=env,
        )
    finally:
        stub.stop()
    records = [json.loads(p.read_text()) for p in (work / "run7" / "records").rglob("*.json")]
    check(
        name,
        "the simulator's model failing: queries end as infrastructure failures",
        result.returncode == 1
        and "infrastructure: 2 queries failed" in result.stderr
        and [r["status"] for r in records] == ["infrastructure"] * 2,
        statuses=",".join(r["status"] for r in records),
    )


def main() -> None:
    """Run the chosen scenarios; exit 1 if any check failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=2.0, help="seconds per model answer")
    parser.add_argument("--only", default="", help="comma-separated scenario numbers")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    options = parser.parse_args()
    chosen = {int(n) for n in options.only.split(",") if n} or {1, 2, 3, 4, 5}
    with tempfile.TemporaryDirectory(prefix="toolsim-faults-") as folder:
        work = Path(folder)
        scenarios: dict[int, Callable[[], None]] = {
            1: lambda: replica_killed(work, options.delay),
            2: lambda: redis_killed(work),
            3: lambda: cache_damaged(work),
            4: lambda: answers_damaged(work),
            5: lambda: model_unreachable(work, options.delay),
        }
        for number in sorted(chosen):
            scenarios[number]()
    if options.json:
        options.json.write_text(json.dumps(results, indent=2))
    failed = [result for result in results if not result["passed"]]
    print(f"{len(results) - len(failed)} of {len(results)} checks passed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

"""Episodes under load: N concurrent episodes x M tool calls on 1 and 2 replicas of one Redis.

Starts a ``redis-server`` on a free loopback port and ``toolsim serve`` replicas on it
(one worker each; the schema simulator, never reached: every call is a stored reply).
The shared cache holds one stored reply per call of the run (the example suite's
APIs, synthetic ~400-byte replies). Per replica count, per round:

1. **plain**: every call once as a plain ``POST /virtual`` hit (the front door's
   path), ``--concurrency`` in flight, spread over the replicas;
2. **episodes**: ``--episodes`` episodes, ``--concurrency`` of them at once, each
   opened, its ``--calls`` calls made through ``/virtual`` with ``X-Toolsim-Episode``
   (call k of an episode goes to replica k mod N, so every replica serves every
   episode), checked (``GET``: exactly its own calls, in order: no leak) and closed;
3. **verify** (first replica count only): every episode of a last batch verified at
   once through HTTP with the learned judge.

Reported: calls/s and the median latency of a call in both phases and their ratio
(the per-call overhead of an episode against a plain hit *in the same run*),
episodes/s, and the servers' CPU seconds per call (steadier than throughput on a
shared machine). Then, in this process, the learned judge's verdict throughput
behind :class:`~toolsim.server.episodes.Rewards`: batched (``--verify-batch``) against
one answer per model pass (batch 1), on the same ``--answers`` distinct answers.

The client (httpx, one process) shares the machine's cores with the servers, so
absolute rates say as much about the client as about toolsim: read the ratios.

Usage: python perf/episodes.py [--episodes 512] [--calls 10] [--concurrency 64]
       [--replicas 1,2] [--rounds 3] [--answers 4096] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx
import orjson
from _fixtures import body, entry
from _servers import Server, free_port, start_command, wait_ready
from rich.console import Console
from rich.table import Table

from toolsim.cache.redis import open_redis
from toolsim.catalog import Catalog

HEADER = "X-Toolsim-Episode"
#: Idle connections are dropped before the server's keep-alive (5 s) would close them under
#: a request (a loaded machine leaves a connection idle that long).
LIMITS = httpx.Limits(keepalive_expiry=2.0)
#: Every /virtual body is sent declared as JSON, as StableToolBench's client sends it.
JSON = {"content-type": "application/json"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=512)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--replicas", default="1,2", help="Replica counts, comma-separated.")
    parser.add_argument("--rounds", type=int, default=3, help="Rounds per replica count.")
    parser.add_argument("--answers", type=int, default=4096, help="Answers for the judge phase.")
    parser.add_argument("--verify-batch", type=int, default=256)
    parser.add_argument("--json", type=Path, help="Write the figures here too.")
    return parser.parse_args()


def start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server not found (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0?prefix=perf"
    deadline = time.monotonic() + 30
    while True:
        try:
            open_redis(url).close()
            return process, url
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def start_replica(index: int, redis_url: str, home: Path, logs: Path) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "toolsim", "serve", "--host", "127.0.0.1", "--port", str(port)]
    env = {
        "TOOLSIM_CACHE__URL": redis_url,
        "TOOLSIM_HOME": str(home),
        "TOOLSIM_SIMULATOR__BACKEND": "schema",
        "TOOLSIM_EPISODES__MAX_OPEN": "100000",
    }
    server = start_command(f"replica {index}", command, port, logs, env, group=True)
    wait_ready(server, lambda client: client.get("/healthz"), timeout=180)
    return server


async def plain_phase(urls: list[str], bodies: list[bytes], concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(bodies)):
        queue.put_nowait(index)
    clients = [
        httpx.AsyncClient(base_url=url, timeout=60, limits=LIMITS, headers=JSON) for url in urls
    ]

    async def worker() -> None:
        while not queue.empty():
            index = queue.get_nowait()
            client = clients[index % len(clients)]
            began = time.perf_counter()
            reply = await client.post("/virtual", content=bodies[index])
            latencies.append(time.perf_counter() - began)
            assert reply.status_code == 200 and not reply.json()["error"], reply.text

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    for client in clients:
        await client.aclose()
    return {
        "calls": len(bodies),
        "seconds": elapsed,
        "calls_per_s": len(bodies) / elapsed,
        "median_ms": statistics.median(latencies) * 1000,
    }


async def episode_phase(
    urls: list[str],
    functions: list[str],
    bodies: list[bytes],
    episodes: int,
    calls: int,
    concurrency: int,
    verify: bool,
) -> dict[str, Any]:
    latencies: list[float] = []
    leaks = 0
    clients = [
        httpx.AsyncClient(base_url=url, timeout=120, limits=LIMITS, headers=JSON) for url in urls
    ]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(episodes):
        queue.put_nowait(number)
    opened: list[str] = []

    async def play(number: int) -> None:
        nonlocal leaks
        home = clients[number % len(clients)]
        reply = await home.post(
            "/v1/episodes", json={"query": f"perf {number}", "functions": functions}
        )
        assert reply.status_code == 201, reply.text
        episode = reply.json()["episode_id"]
        sent = []
        for k in range(calls):
            index = number * calls + k
            client = clients[(number + k) % len(clients)]
            began = time.perf_counter()
            answer = await client.post("/virtual", content=bodies[index], headers={HEADER: episode})
            latencies.append(time.perf_counter() - began)
            assert answer.status_code == 200 and not answer.json()["error"], answer.text
            sent.append(orjson.loads(orjson.loads(bodies[index])["tool_input"]))
        view = (await home.get(f"/v1/episodes/{episode}")).json()
        if [call["arguments"] for call in view["calls"]] != sent:
            leaks += 1
        if verify:
            opened.append(episode)
        else:
            await home.delete(f"/v1/episodes/{episode}")

    async def worker() -> None:
        while not queue.empty():
            await play(queue.get_nowait())

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    result: dict[str, Any] = {
        "episodes": episodes,
        "calls": episodes * calls,
        "seconds": elapsed,
        "episodes_per_s": episodes / elapsed,
        "calls_per_s": episodes * calls / elapsed,
        "median_ms": statistics.median(latencies) * 1000,
        "leaks": leaks,
    }
    if verify:
        # Fresh connections: a pooled one idle past the server's keep-alive may be closed
        # under the client's feet.
        fresh = [
            httpx.AsyncClient(base_url=url, timeout=300, limits=LIMITS, headers=JSON)
            for url in urls
        ]
        slots = asyncio.Semaphore(concurrency)

        async def verify_one(n: int, episode: str) -> httpx.Response:
            async with slots:
                client = fresh[n % len(fresh)]
                answer = {"answer": f"The answer is {n}."}
                return await client.post(f"/v1/episodes/{episode}/verify", json=answer)

        began = time.perf_counter()
        verdicts = await asyncio.gather(*(verify_one(n, e) for n, e in enumerate(opened)))
        seconds = time.perf_counter() - began
        assert all(v.status_code == 200 for v in verdicts), verdicts[0].text
        result["http_verifies_per_s"] = len(opened) / seconds
        for n, episode in enumerate(opened):
            await fresh[n % len(fresh)].delete(f"/v1/episodes/{episode}")
        for client in fresh:
            await client.aclose()
    for client in clients:
        await client.aclose()
    return result


async def judge_phase(answers: int, batch: int) -> dict[str, Any]:
    """Rewards/s of the learned judge through Rewards: batched against one answer per pass."""
    from toolsim.evaluator.judging.learned.judge import LearnedJudge
    from toolsim.evaluator.rewards import JudgeRewards
    from toolsim.server.episodes import Rewards
    from toolsim.server.episodes.manager import answer_of
    from toolsim.server.episodes.state import EpisodeState

    fields = {
        "query": "Convert 100 USD to EUR and tell me the rate.",
        "group": "",
        "query_id": "",
        "apis": [],
        "functions": ["convertcurrency_for_quick_fx_rates"],
        "prices": {},
        "max_calls": 10,
        "opened": 0.0,
    }
    state = EpisodeState.of("perf", fields)
    log = [
        {
            "function": "convertcurrency_for_quick_fx_rates",
            "arguments": {"amount": 100, "base": "USD", "target": "EUR"},
            "error": "",
            "response": {"rate": 0.92, "result": 92.0},
        }
    ]
    made = [
        answer_of(state, log, f"100 USD is {90 + n / 100:.2f} EUR (answer {n}).", False)
        for n in range(answers)
    ]
    figures: dict[str, Any] = {"answers": answers}
    for label, size in (("batched", batch), ("one_by_one", 1)):
        rewards = Rewards(JudgeRewards(LearnedJudge.load()), batch=size, wait=0.002)
        began = time.perf_counter()
        verdicts = await asyncio.gather(*(rewards.verdict(answer) for answer in made))
        seconds = time.perf_counter() - began
        assert len(verdicts) == answers and rewards.judged == answers
        figures[label] = {
            "batch": size,
            "rewards_per_s": answers / seconds,
            "judge_calls": rewards.batches,
        }
    figures["speedup"] = (
        figures["batched"]["rewards_per_s"] / figures["one_by_one"]["rewards_per_s"]
    )
    return figures


async def run(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    catalog = Catalog.from_paths(["example"])
    apis = sorted(catalog, key=lambda api: api.function_name)
    total = args.episodes * args.calls
    calls = [(apis[i % len(apis)], i) for i in range(total)]
    bodies = [body(api, i) for api, i in calls]
    functions = [api.function_name for api in apis]
    redis, url = start_redis(scratch)
    results: dict[str, Any] = {"setup": vars(args) | {"json": str(args.json)}, "replicas": {}}
    try:
        store = open_redis(url)
        store.put_many(entry(api, i) for api, i in calls)
        store.close()
        for count in [int(n) for n in args.replicas.split(",")]:
            replicas = [
                start_replica(i, url, scratch / f"home-{count}-{i}", scratch) for i in range(count)
            ]
            urls = [replica.url for replica in replicas]
            try:
                await plain_phase(urls, bodies, args.concurrency)  # warm: every reply in memory
                rounds = []
                for round_number in range(args.rounds):
                    cpu = sum(r.cpu_seconds() for r in replicas)
                    plain = await plain_phase(urls, bodies, args.concurrency)
                    plain["cpu_ms_per_call"] = (
                        (sum(r.cpu_seconds() for r in replicas) - cpu) * 1000 / total
                    )
                    cpu = sum(r.cpu_seconds() for r in replicas)
                    verify = round_number == args.rounds - 1 and count == 1
                    episodes = await episode_phase(
                        urls, functions, bodies, args.episodes, args.calls, args.concurrency, verify
                    )
                    episodes["cpu_ms_per_call"] = (
                        (sum(r.cpu_seconds() for r in replicas) - cpu) * 1000 / total
                    )
                    rounds.append({"plain": plain, "episodes": episodes})
                results["replicas"][count] = summary(rounds)
            finally:
                for replica in replicas:
                    replica.stop()
    finally:
        redis.terminate()
        redis.wait(timeout=30)
    results["judge"] = await judge_phase(args.answers, args.verify_batch)
    return results


def summary(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    def median(phase: str, key: str) -> float:
        return statistics.median(r[phase][key] for r in rounds)

    out = {
        "rounds": rounds,
        "plain_calls_per_s": median("plain", "calls_per_s"),
        "plain_median_ms": median("plain", "median_ms"),
        "episode_calls_per_s": median("episodes", "calls_per_s"),
        "episode_median_ms": median("episodes", "median_ms"),
        "episodes_per_s": median("episodes", "episodes_per_s"),
        "plain_cpu_ms_per_call": median("plain", "cpu_ms_per_call"),
        "episode_cpu_ms_per_call": median("episodes", "cpu_ms_per_call"),
        "leaks": sum(r["episodes"]["leaks"] for r in rounds),
    }
    out["latency_ratio"] = out["episode_median_ms"] / out["plain_median_ms"]
    out["throughput_ratio"] = out["plain_calls_per_s"] / out["episode_calls_per_s"]
    out["cpu_ratio"] = out["episode_cpu_ms_per_call"] / out["plain_cpu_ms_per_call"]
    verifies = [
        r["episodes"]["http_verifies_per_s"]
        for r in rounds
        if "http_verifies_per_s" in r["episodes"]
    ]
    if verifies:
        out["http_verifies_per_s"] = verifies[0]
    return out


def report(console: Console, results: dict[str, Any]) -> None:
    setup = results["setup"]
    table = Table(
        title=f"{setup['episodes']} episodes x {setup['calls']} calls, {setup['concurrency']} in "
        f"flight, medians of {setup['rounds']} rounds"
    )
    for column in (
        "replicas",
        "plain calls/s",
        "episode calls/s",
        "episodes/s",
        "plain ms",
        "episode ms",
        "latency x",
        "throughput x",
        "CPU ms/call plain",
        "episode",
        "CPU x",
        "leaks",
    ):
        table.add_column(column, justify="right")
    for count, row in results["replicas"].items():
        table.add_row(
            str(count),
            f"{row['plain_calls_per_s']:.0f}",
            f"{row['episode_calls_per_s']:.0f}",
            f"{row['episodes_per_s']:.1f}",
            f"{row['plain_median_ms']:.2f}",
            f"{row['episode_median_ms']:.2f}",
            f"{row['latency_ratio']:.2f}",
            f"{row['throughput_ratio']:.2f}",
            f"{row['plain_cpu_ms_per_call']:.2f}",
            f"{row['episode_cpu_ms_per_call']:.2f}",
            f"{row['cpu_ratio']:.2f}",
            str(row["leaks"]),
        )
    console.print(table)
    for count, row in results["replicas"].items():
        if "http_verifies_per_s" in row:
            console.print(
                f"HTTP verify, {count} replica, learned judge: "
                f"{row['http_verifies_per_s']:.0f} verdicts/s"
            )
    judge = results["judge"]
    console.print(
        f"learned judge behind Rewards, {judge['answers']} distinct answers: batched "
        f"({judge['batched']['batch']}) {judge['batched']['rewards_per_s']:.0f} rewards/s in "
        f"{judge['batched']['judge_calls']} judge calls; one per pass "
        f"{judge['one_by_one']['rewards_per_s']:.0f} rewards/s; x{judge['speedup']:.1f}"
    )


def main() -> None:
    args = parse_args()
    console = Console()
    with TemporaryDirectory(prefix="toolsim-perf-episodes-") as scratch:
        results = asyncio.run(run(args, Path(scratch)))
    report(console, results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    leaks = sum(row["leaks"] for row in results["replicas"].values())
    sys.exit(1 if leaks else 0)


if __name__ == "__main__":
    main()

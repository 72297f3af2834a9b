"""Check toolsim's ``openai`` simulator against a real vLLM OpenAI server.

An optional, slow check (not part of CI); ``scripts/vllm_parity.sh`` starts the
server and runs this with toolsim's interpreter. Every API of the example suite
is called once through ``POST /virtual`` with its documented default arguments
(a cache miss answered by the model), then once more, which must be a cache hit
with the identical reply (skipped when the first call failed: failures are never
cached). Prints a table and a markdown block for the README; exits 1 if any
reply is not an ``{"error", "response"}`` object.

    python scripts/vllm_parity.py --base-url http://127.0.0.1:8000/v1 \
        --model SmolLM2-135M-Instruct
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from toolsim.catalog import ApiSpec
from toolsim.server import create_app
from toolsim.settings import Settings


@dataclass
class ApiParity:
    """What two identical calls of one API gave."""

    api: str
    status: int
    valid_shape: bool
    error_empty: bool
    follows_template: bool | None
    seconds: float
    first: str  # the first call's counted outcome: misses (simulated) or errors
    cache_hit: bool
    identical: bool
    error: str


def _body(api: ApiSpec, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "category": api.category,
        "tool_name": api.tool_name,
        "api_name": api.name,
        "tool_input": json.dumps(arguments),
    }


def _valid_shape(reply: Any) -> bool:
    return (
        isinstance(reply, dict)
        and set(reply) == {"error", "response"}
        and isinstance(reply["error"], str)
    )


def _follows_template(api: ApiSpec, reply: Any) -> bool | None:
    """Whether a successful reply has exactly the template's top-level fields (None: no check)."""
    template = api.template_response
    if not _valid_shape(reply) or reply["error"] or not isinstance(template, dict):
        return None
    response = reply["response"]
    fields = set(template) - {"_list_length"}
    return isinstance(response, dict) and set(response) == fields


async def _per_api(client: httpx.AsyncClient, name: str) -> dict[str, int]:
    stats = (await client.get("/stats")).json()["since_start"]["per_api"]
    return stats.get(name, {"hits": 0, "misses": 0, "errors": 0})


async def _check(client: httpx.AsyncClient, api: ApiSpec) -> ApiParity:
    body = _body(api, api.default_arguments())
    started = time.perf_counter()
    first = await client.post("/virtual", json=body)
    seconds = time.perf_counter() - started
    after_first = await _per_api(client, api.function_name)
    failed = after_first["errors"] > 0
    if failed:
        # A simulator failure is never cached: a second call would only ask the model again.
        cache_hit = identical = False
    else:
        second = await client.post("/virtual", json=body)
        after_second = await _per_api(client, api.function_name)
        cache_hit = after_second["hits"] == after_first["hits"] + 1
        identical = second.content == first.content
    try:
        reply = first.json()
    except ValueError:
        reply = None
    valid = _valid_shape(reply)
    error = reply["error"] if valid else first.text[:200]
    return ApiParity(
        api=api.function_name,
        status=first.status_code,
        valid_shape=valid,
        error_empty=valid and not reply["error"],
        follows_template=_follows_template(api, reply),
        seconds=round(seconds, 2),
        first="errors" if failed else "misses",
        cache_hit=cache_hit,
        identical=identical,
        error=error,
    )


async def _server_version(base_url: str) -> str:
    root = base_url.rstrip("/").removesuffix("/v1")
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            return (await client.get(f"{root}/version")).json().get("version", "?")
    except (httpx.HTTPError, ValueError):
        return "?"


async def run(base_url: str, model: str | None, timeout: float) -> dict[str, Any]:
    """Call every example API twice; return the outcomes and what the simulator ended up using."""
    with tempfile.TemporaryDirectory(prefix="toolsim-vllm-") as home:
        settings = Settings(
            home=Path(home),
            tools=["example"],
            simulator={
                "backend": "openai",
                "base_url": base_url,
                "model": model,
                "timeout": timeout,
            },
        )
        app = create_app(settings)
        service = app.state.service
        simulator = service.simulator
        outcomes = []
        started = time.perf_counter()
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(
                transport=transport, base_url="http://toolsim", timeout=timeout * 4
            ) as client:
                for api in service.catalog:
                    outcome = await _check(client, api)
                    outcomes.append(outcome)
                    print(_row(outcome), flush=True)
            models = {entry.model for _key, entry in service.backend.items()}
        finally:
            await simulator.aclose()
            service.backend.close()
        return {
            "outcomes": outcomes,
            "response_format": simulator._format,  # what survived any step-down
            "requested_format": simulator.options.response_format,
            "model_requests": simulator.calls,
            "models": sorted(models),
            "seconds": round(time.perf_counter() - started, 1),
            "vllm": await _server_version(base_url),
        }


def _mark(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "NO")


def _cached(o: ApiParity) -> str:
    """The last column: a failed simulation is not cached, by design."""
    return "not cached (failed)" if o.first == "errors" else _mark(o.cache_hit and o.identical)


def _row(o: ApiParity) -> str:
    return (
        f"{o.api[:44]:44} {o.status:4} {_mark(o.valid_shape):5} {_mark(o.error_empty):5} "
        f"{_mark(o.follows_template):5} {o.seconds:7.2f} {o.first:6} "
        f"{'n/a' if o.first == 'errors' else _mark(o.cache_hit and o.identical):5} "
        f"{'' if o.error_empty else o.error[:60]}"
    )


def _markdown(result: dict[str, Any]) -> str:
    outcomes: list[ApiParity] = result["outcomes"]
    n = len(outcomes)
    count = sum
    lines = [
        f"vLLM {result['vllm']} (CPU), model `{', '.join(result['models']) or '?'}`, "
        f"{n} example APIs, default arguments, temperature 0, seed 42; "
        f"response_format `{result['response_format']}` "
        f"(requested `{result['requested_format']}`), "
        f"{result['model_requests']} model requests, {result['seconds']} s in all. "
        "A failed simulation (no valid reply after every attempt) is answered as an error "
        "and not cached, so it is called once only.",
        "",
        "| API | HTTP | valid shape | empty error | template fields | first call (s) "
        "| 2nd call cached & identical |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for o in outcomes:
        lines.append(
            f"| `{o.api}` | {o.status} | {_mark(o.valid_shape)} | {_mark(o.error_empty)} "
            f"| {_mark(o.follows_template)} | {o.seconds:.2f} "
            f"| {_cached(o)} |"
        )
    templated = [o for o in outcomes if o.follows_template is not None]
    answered = [o for o in outcomes if o.first != "errors"]
    lines += [
        f"| **total** | {count(o.status == 200 for o in outcomes)}/{n} "
        f"| {count(o.valid_shape for o in outcomes)}/{n} "
        f"| {count(o.error_empty for o in outcomes)}/{n} "
        f"| {count(bool(o.follows_template) for o in templated)}/{len(templated)} "
        f"| {sum(o.seconds for o in outcomes) / max(n, 1):.2f} mean "
        f"| {count(o.cache_hit and o.identical for o in answered)}/{len(answered)} answered |",
    ]
    return "\n".join(lines)


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8000/v1")
    parser.add_argument("--model", help="served model name (default: ask /v1/models)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per simulation")
    parser.add_argument("--json-out", type=Path, help="also write the outcomes here as JSON")
    args = parser.parse_args()

    header = (
        f"{'API':44} {'HTTP':4} {'shape':5} {'noerr':5} {'tmpl':5} {'seconds':>7} "
        f"{'first':6} {'hit=':5} error"
    )
    print(header, flush=True)
    result = asyncio.run(run(args.base_url, args.model, args.timeout))
    outcomes: list[ApiParity] = result["outcomes"]
    print(f"\nresponse_format used: {result['response_format']}")
    if result["response_format"] != result["requested_format"]:
        print(f"WARNING: the server rejected response_format {result['requested_format']!r}")
    print("\n```markdown\n" + _markdown(result) + "\n```")
    if args.json_out:
        payload = {**result, "outcomes": [asdict(o) for o in outcomes]}
        args.json_out.write_text(json.dumps(payload, indent=2))
    bad = [o.api for o in outcomes if not o.valid_shape]
    if bad:
        print(f"FAIL: {len(bad)} replies are not {{error, response}} objects: {', '.join(bad)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

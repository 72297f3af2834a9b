"""The memory of hot replies is bounded by count and by bytes."""

from __future__ import annotations

from toolsim.cache.entry import Reply, Source
from toolsim.server.hits import HitMemory, PreparedHit

KIB = 1024


def _hit(key: str, size: int) -> PreparedHit:
    """A prepared hit whose body is about ``size`` bytes."""
    return PreparedHit.of(key, "f", Reply(response="x" * size), Source.SIMULATED)


def test_the_bytes_kept_never_exceed_the_bound() -> None:
    memory = HitMemory(capacity=1000, max_bytes=10 * KIB)
    for n in range(50):
        memory.keep(_hit(f"k{n}", KIB))
        assert memory.bytes <= 10 * KIB
    assert 8 <= len(memory) < 10  # each body is a little over 1 KiB
    assert memory.get("k49") is not None and memory.get("k0") is None  # the oldest went
    assert memory.bytes == sum(len(memory.get(k).body["body"]) for k in list(memory._hits))


def test_a_reply_larger_than_the_bound_is_not_kept() -> None:
    memory = HitMemory(capacity=10, max_bytes=4 * KIB)
    memory.keep(_hit("small", 100))
    memory.keep(_hit("huge", 8 * KIB))
    assert memory.get("huge") is None and memory.get("small") is not None


def test_replacing_and_forgetting_keep_the_count_right() -> None:
    memory = HitMemory(capacity=10, max_bytes=10 * KIB)
    memory.keep(_hit("a", 2 * KIB))
    memory.keep(_hit("a", 100))
    assert len(memory) == 1 and memory.bytes == len(memory.get("a").body["body"])
    memory.forget("a")
    assert memory.bytes == 0
    memory.keep(_hit("b", 100))
    memory.clear()
    assert memory.bytes == 0 and len(memory) == 0


async def test_the_server_bounds_its_memory_by_the_setting(make_app, connect) -> None:
    app = make_app(hardening={"memory_bytes": 2 * KIB})
    service = app.state.service
    service.simulator.outcomes.extend(Reply(response="y" * 600) for _ in range(20))
    async with connect(app) as client:
        for n in range(20):
            body = {
                "category": "Weather",
                "tool_name": "SkyCast Weather",
                "api_name": "Current Weather",
                "tool_input": {"city": f"City {n}"},
            }
            assert (await client.post("/virtual", json=body)).json()["error"] == ""
    assert 0 < service.memory.bytes <= 2 * KIB and len(service.memory) < 20

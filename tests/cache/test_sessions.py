"""The SupportsSessions contract (expiring shared sessions), run against every built-in backend."""

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from toolsim.cache import open_backend
from toolsim.cache.backend import EXISTS, FULL, OPENED, SupportsSessions
from toolsim.cache.disk import DiskBackend
from toolsim.cache.memory import MemoryBackend


@pytest.fixture(params=["memory", "disk", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SupportsSessions]:
    opened: SupportsSessions
    if request.param == "memory":
        opened = MemoryBackend()
    elif request.param == "disk":
        opened = DiskBackend(tmp_path / "cache")
    else:
        opened = open_backend(request.getfixturevalue("redis_url"), tmp_path)  # type: ignore[assignment]
    yield opened
    opened.close()  # type: ignore[attr-defined]


def eventually(check: Callable[[], bool], within: float = 10.0) -> bool:
    """Whether ``check`` comes true within ``within`` seconds (expiry is wall-clock time)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return check()


def test_backends_implement_sessions(store: SupportsSessions) -> None:
    assert isinstance(store, SupportsSessions)


def test_open_read_change_close(store: SupportsSessions) -> None:
    fields = {"task": {"query": "weather in Lisbon", "tools": ["a", "b"]}, "status": "open"}
    assert store.session_open("ep", "one", fields, 60) == OPENED
    assert store.session_open("ep", "one", {"other": 1}, 60) == EXISTS
    session = store.session_read("ep", "one")
    assert session is not None and session.fields == fields and session.log == []

    change = store.session_change(
        "ep",
        "one",
        ttl=60,
        fields={"status": "done"},
        add={"calls": 1, "cost": 2.5},
        append=[{"call": 1}, {"call": 2}],
    )
    assert change.found and change.capped is None
    assert change.totals == {"calls": 1.0, "cost": 2.5}
    change = store.session_change("ep", "one", ttl=60, add={"cost": 2.5}, append=[{"call": 3}])
    assert change.totals == {"cost": 5.0}

    session = store.session_read("ep", "one")
    assert session is not None
    assert session.fields["status"] == "done" and session.fields["cost"] == 5.0
    assert session.log == [{"call": 1}, {"call": 2}, {"call": 3}]
    assert store.session_read("ep", "one", log=False).log == []  # type: ignore[union-attr]

    assert store.session_close("ep", "one") is True
    assert store.session_read("ep", "one") is None
    assert store.session_close("ep", "one") is False
    assert not store.session_change("ep", "one", ttl=60, add={"calls": 1}).found


def test_a_cap_refuses_the_whole_change(store: SupportsSessions) -> None:
    store.session_open("ep", "capped", {"status": "open"}, 60)
    assert store.session_change("ep", "capped", ttl=60, add={"cost": 8}, caps={"cost": 10}).found
    refused = store.session_change(
        "ep",
        "capped",
        ttl=60,
        fields={"status": "x"},
        add={"calls": 1, "cost": 3},
        caps={"cost": 10},
        append=["lost"],
    )
    assert refused.found and refused.capped == "cost" and refused.totals == {}
    session = store.session_read("ep", "capped")
    assert session is not None
    assert session.fields == {"status": "open", "cost": 8.0} and session.log == []
    assert store.session_change("ep", "capped", ttl=60, add={"cost": 2}, caps={"cost": 10}).found


def test_spaces_are_separate_and_counted(store: SupportsSessions) -> None:
    assert store.session_open("ep", "a", {"n": 1}, 60) == OPENED
    assert store.session_open("ep", "b", {"n": 2}, 60, limit=2) == OPENED
    assert store.session_open("ep", "c", {"n": 3}, 60, limit=2) == FULL
    assert store.session_open("other", "a", {"n": 9}, 60, limit=1) == OPENED
    assert store.session_count("ep") == 2 and store.session_count("other") == 1
    assert store.session_read("other", "a").fields == {"n": 9}  # type: ignore[union-attr]
    store.session_close("ep", "a")
    assert store.session_open("ep", "c", {"n": 3}, 60, limit=2) == OPENED


def test_idle_sessions_expire_and_free_their_room(store: SupportsSessions) -> None:
    assert store.session_open("ep", "brief", {"n": 1}, 0.05) == OPENED
    assert store.session_open("ep", "kept", {"n": 2}, 600) == OPENED
    assert eventually(lambda: store.session_read("ep", "brief") is None)
    assert not store.session_change("ep", "brief", ttl=60, add={"calls": 1}).found
    assert store.session_count("ep") == 1
    assert store.session_open("ep", "new", {"n": 3}, 600, limit=2) == OPENED


def test_a_change_restarts_the_time_to_live(store: SupportsSessions) -> None:
    store.session_open("ep", "busy", {"n": 1}, 0.3)
    store.session_change("ep", "busy", ttl=600, add={"calls": 1})
    time.sleep(0.4)  # past the first time to live, which the change replaced
    assert store.session_read("ep", "busy") is not None
    assert store.session_count("ep") == 1


def test_concurrent_counted_changes_are_atomic(store: SupportsSessions) -> None:
    store.session_open("ep", "race", {"n": 1}, 60)
    refused = []

    def spend() -> None:
        for _ in range(10):
            change = store.session_change(
                "ep", "race", ttl=60, add={"calls": 1}, caps={"calls": 25}, append=[1]
            )
            if change.capped:
                refused.append(change)

    threads = [threading.Thread(target=spend) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    session = store.session_read("ep", "race")
    assert session is not None
    assert session.fields["calls"] == 25 and len(session.log) == 25 and len(refused) == 15

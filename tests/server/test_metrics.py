"""GET /metrics: valid Prometheus text, counts that follow calls, shared by every process."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import pytest

from toolsim import __version__
from toolsim.server.metrics import LATENCY_BUCKETS, Measurements, render

FX = "/v1/tools/convertcurrency_for_quick_fx_rates"
FX_ARGS = {"amount": 100, "base": "USD", "target": "EUR"}

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(rf"({_NAME})(?:\{{(.*)\}})? (\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(?:,|$)')
_SUFFIXES = {"counter": ("",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}


@dataclass
class Family:
    """One metric family of an exposition."""

    kind: str
    help: str
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = field(default_factory=dict)

    def value(self, name: str, **labels: str) -> float:
        return self.samples[(name, tuple(sorted(labels.items())))]


def parse(text: str) -> dict[str, Family]:
    """Parse the text format 0.0.4 strictly enough to catch what Prometheus would reject."""
    assert text.endswith("\n")
    families: dict[str, Family] = {}
    helps: dict[str, str] = {}
    current: str | None = None
    for line in text.rstrip("\n").split("\n"):
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert re.fullmatch(_NAME, name) and name not in helps, line
            helps[name] = help_text
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert kind in _SUFFIXES and name not in families, line
            assert name in helps, f"HELP must come before TYPE: {line}"
            if kind == "counter":
                assert name.endswith("_total"), f"counter without _total: {name}"
            families[name] = Family(kind, helps[name])
            current = name
        else:
            assert not line.startswith("#") and line, f"unexpected line {line!r}"
            match = _SAMPLE.fullmatch(line)
            assert match, f"not a sample: {line!r}"
            name, raw_labels, raw_value = match.groups()
            assert current is not None, f"sample before any TYPE: {line}"
            family = families[current]
            assert name in {current + s for s in _SUFFIXES[family.kind]}, line
            labels: list[tuple[str, str]] = []
            if raw_labels:
                position = 0
                while position < len(raw_labels):
                    label = _LABEL.match(raw_labels, position)
                    assert label, f"bad labels in {line!r}"
                    labels.append((label.group(1), label.group(2)))
                    position = label.end()
            key = (name, tuple(sorted(labels)))
            assert key not in family.samples, f"duplicate series {line}"
            family.samples[key] = float(raw_value)
    for name, family in families.items():
        assert family.samples, f"family {name} has no samples"
        if family.kind == "histogram":
            _check_histogram(name, family)
    return families


def _check_histogram(name: str, family: Family) -> None:
    buckets = sorted(
        (float(dict(labels)["le"]), value)
        for (sample, labels), value in family.samples.items()
        if sample == f"{name}_bucket"
    )
    assert buckets[-1][0] == math.inf
    counts = [value for _, value in buckets]
    assert counts == sorted(counts), "buckets must be cumulative"
    assert buckets[-1][1] == family.value(f"{name}_count")
    assert family.value(f"{name}_sum") >= 0


async def _scrape(client) -> dict[str, Family]:
    reply = await client.get("/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(reply.text)


def _calls(families: dict[str, Family]) -> dict[str, float]:
    family = families["toolsim_tool_calls_total"]
    return {
        outcome: family.value("toolsim_tool_calls_total", outcome=outcome)
        for outcome in ("hit", "miss", "error")
    }


async def test_exposition_parses_and_starts_at_zero(client):
    families = await _scrape(client)

    assert set(families) == {
        "toolsim_info",
        "toolsim_tool_calls_total",
        "toolsim_tool_replies_total",
        "toolsim_simulation_seconds",
        "toolsim_request_timeouts_total",
        "toolsim_cache_entries",
    }
    assert _calls(families) == {"hit": 0, "miss": 0, "error": 0}
    assert families["toolsim_simulation_seconds"].value("toolsim_simulation_seconds_count") == 0
    assert families["toolsim_cache_entries"].value("toolsim_cache_entries") == 0
    info = families["toolsim_info"]
    assert info.value("toolsim_info", version=__version__, mode="record", simulator="scripted") == 1


async def test_counts_follow_calls(client, fake):
    await client.post(FX, json=FX_ARGS)  # miss
    await client.post(FX, json=FX_ARGS)  # hit
    await client.post(FX, json={"amount": "lots"})  # invalid: error, no simulation
    fake.outcomes.append(RuntimeError("boom"))
    await client.post(FX, json={**FX_ARGS, "amount": 7})  # simulator failure: error

    families = await _scrape(client)

    assert _calls(families) == {"hit": 1, "miss": 1, "error": 2}
    replies = families["toolsim_tool_replies_total"]
    assert replies.value("toolsim_tool_replies_total", source="simulated") == 2
    assert replies.value("toolsim_tool_replies_total", source="imported") == 0
    latency = families["toolsim_simulation_seconds"]
    assert latency.value("toolsim_simulation_seconds_count") == 2  # failures take time too
    assert latency.value("toolsim_simulation_seconds_bucket", le="+Inf") == 2
    assert families["toolsim_cache_entries"].value("toolsim_cache_entries") == 1


async def test_a_scrape_leaves_stats_unchanged(client):
    await client.post(FX, json=FX_ARGS)
    await client.post(FX, json=FX_ARGS)
    before = (await client.get("/stats")).json()

    await _scrape(client)
    after = (await client.get("/stats")).json()

    assert after["since_start"] == before["since_start"]
    assert after["total"] == before["total"]


async def test_every_process_on_a_store_reports_the_same_counts(make_app, connect):
    # Two servers on one cache, like two workers: each scrape sees both's calls
    # once flushed, so counters never jump back when another worker answers.
    first, second = make_app(), make_app()
    async with connect(first) as one, connect(second) as two:
        await one.post(FX, json=FX_ARGS)
        await two.post(FX, json=FX_ARGS)
        await two.post(FX, json={**FX_ARGS, "amount": 3})
        seen_by_two = _calls(await _scrape(two))
        seen_by_one = _calls(await _scrape(one))

    assert seen_by_two == {"hit": 1, "miss": 1, "error": 0}  # one's miss not yet flushed
    assert seen_by_one == {"hit": 1, "miss": 2, "error": 0}


def test_latency_lands_in_the_right_bucket():
    measurements = Measurements()
    counters: dict[str, int] = {}

    class Store:
        def add_counters(self, deltas: dict[str, int]) -> None:
            for name, delta in deltas.items():
                counters[name] = counters.get(name, 0) + delta

    measurements.observe_simulation(0.3)
    measurements.observe_simulation(0.5)  # bounds are inclusive
    measurements.observe_simulation(LATENCY_BUCKETS[-1] * 10)
    measurements.count_timeout()
    measurements.flush(Store())

    family = parse(render(counters, 0, mode="record", simulator="x"))
    latency = family["toolsim_simulation_seconds"]
    assert latency.value("toolsim_simulation_seconds_bucket", le="0.25") == 0
    assert latency.value("toolsim_simulation_seconds_bucket", le="0.5") == 2
    assert latency.value("toolsim_simulation_seconds_bucket", le="300.0") == 2
    assert latency.value("toolsim_simulation_seconds_bucket", le="+Inf") == 3
    assert latency.value("toolsim_simulation_seconds_sum") == pytest.approx(3000.8)
    timeouts = family["toolsim_request_timeouts_total"]
    assert timeouts.value("toolsim_request_timeouts_total") == 1


def test_label_values_are_escaped():
    text = render({}, 0, mode="record", simulator='we"ird\\name\nx')

    family = parse(text)["toolsim_info"]
    assert ("simulator", 'we\\"ird\\\\name\\nx') in next(iter(family.samples))[1]

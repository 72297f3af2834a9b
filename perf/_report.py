"""Printing ``cache_hits.py`` results: rich tables, and the same as markdown for the README."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

#: Lookup statistics shown, by result field: wall-clock, then CPU time (immune to other load).
LOOKUP_COLUMNS = {
    "median_us": "median µs",
    "p99_us": "p99 µs",
    "cpu_median_us": "CPU median µs",
    "cpu_p99_us": "CPU p99 µs",
}
HTTP_COLUMNS = (
    "workers",
    "server",
    "req/s",
    "p50 ms",
    "p99 ms",
    "share of raw ASGI",
    "p99 vs bare FastAPI",
    "CPU µs/req",
    "CPU share of raw",
)
#: The issue's targets: share of raw ASGI, p99 against bare FastAPI, small/large throughput.
MIN_SHARE, MAX_P99_RATIO, MAX_FLAT_RATIO = 0.70, 1.5, 1.2


def _http_rows(results: dict) -> list[tuple[list[str], bool]]:
    """Table cells per (workers, server), and whether the row is toolsim with memory on."""
    rows = []
    for workers, medians in results["http"].items():
        for target in results["targets"]:
            row = medians[target["key"]]
            cells = [
                workers,
                target["label"],
                f"{row['rps']:,.0f}",
                f"{row['p50_ms']:.2f}",
                f"{row['p99_ms']:.2f}",
                f"{row['share_of_raw']:.2f}",
                f"{row['p99_vs_fastapi']:.2f}",
                f"{row['cpu_us']:.1f}",
                f"{row['cpu_share_of_raw']:.2f}",
            ]
            rows.append((cells, target["current"]))
    return rows


def verdicts(results: dict) -> list[tuple[bool, str]]:
    """The issue's done-when checks, per worker count: (met, sentence)."""
    found = []
    toolsim = [t for t in results["targets"] if t["current"]]
    for workers, medians in results["http"].items():
        for target in toolsim:
            row = medians[target["key"]]
            found.append(
                (
                    row["share_of_raw"] >= MIN_SHARE,
                    f"{workers} worker(s), {target['label']}: {row['share_of_raw']:.2f} of raw "
                    f"ASGI's req/s (target >= {MIN_SHARE:.2f}), p99 {row['p99_vs_fastapi']:.2f}x "
                    f"bare FastAPI's (target <= {MAX_P99_RATIO})",
                )
            )
            found[-1] = (found[-1][0] and row["p99_vs_fastapi"] <= MAX_P99_RATIO, found[-1][1])
        sized = [t for t in toolsim if t["cache"] != "reference"]
        if len(sized) >= 2:
            small, large = medians[sized[0]["key"]], medians[sized[-1]["key"]]
            rps = small["rps"] / large["rps"]
            p99 = large["p99_ms"] / small["p99_ms"]
            found.append(
                (
                    max(rps, 1 / rps) <= MAX_FLAT_RATIO,
                    f"{workers} worker(s), flat: req/s at {sized[0]['cache']}/API is {rps:.2f}x "
                    f"that at {sized[-1]['cache']}/API (target within {MAX_FLAT_RATIO}x); p99 at "
                    f"{sized[-1]['cache']}/API is {p99:.2f}x",
                )
            )
    return found


def _setup_line(results: dict) -> str:
    setup = results["setup"]
    before, after = setup["load_average"]["before"], setup["load_average"]["after"]
    return (
        f"`POST /virtual` hits, uvicorn, loopback, {setup['cpus']} CPUs shared with the client "
        f"({setup['generator']}, 1 thread, {setup['concurrency']} connections); median of "
        f"{setup['rounds']} interleaved rounds x {setup['duration']:g} s; catalog "
        f"{', '.join(setup['tools'])}; load average {before[0]:.1f} at the start, "
        f"{after[0]:.1f} at the end of the HTTP measurements."
    )


def print_tables(console: Console, results: dict) -> None:
    """The results as rich tables, then the verdicts and the /stats check."""
    console.print(_setup_line(results))
    http = Table(title="Cache hits over HTTP")
    for column in HTTP_COLUMNS:
        http.add_column(column, justify="left" if column == "server" else "right")
    last = None
    for cells, bold in _http_rows(results):
        if last is not None and cells[0] != last:
            http.add_section()
        last = cells[0]
        http.add_row(*cells, style="bold" if bold else None)
    console.print(http)
    for met, sentence in verdicts(results):
        console.print(("[green]met[/green]  " if met else "[red]NOT met[/red]  ") + sentence)
    check = results["stats_check"]
    verdict = "[green]OK[/green]" if check["ok"] else "[red]FAILED[/red]"
    runs = check["runs"]
    console.print(
        f"/stats check: {len(runs)} toolsim runs, {sum(r['requests'] for r in runs):,} requests "
        f"counted by wrk, {sum(r['hits'] for r in runs):,} hits, "
        f"{sum(r['misses'] for r in runs)} misses, {sum(r['errors'] for r in runs)} errors: "
        f"{verdict}"
    )
    for failed in (r for r in runs if not r["ok"]):
        console.print(f"  [red]{failed}[/red]")
    if "lookup" in results:
        lookup = results["lookup"]
        table = Table(title=f"DiskBackend.get, {lookup['lookups']:,} random stored keys")
        for column in ("entries", *LOOKUP_COLUMNS.values(), "build s"):
            table.add_column(column, justify="right")
        for total, row in lookup["rows"].items():
            cells = [f"{row[name]:.1f}" for name in LOOKUP_COLUMNS]
            table.add_row(f"{int(total):,}", *cells, f"{row['build_seconds']:.1f}")
        table.add_section()
        table.add_row("ratio", *(f"{lookup['ratios'][name]:.2f}" for name in LOOKUP_COLUMNS), "")
        console.print(table)


def markdown(results: dict) -> str:
    """The same numbers as markdown for the README."""
    lines = [
        _setup_line(results),
        "",
        "| " + " | ".join(HTTP_COLUMNS) + " |",
        "|---:|---|" + "---:|" * (len(HTTP_COLUMNS) - 2),
    ]
    for cells, bold in _http_rows(results):
        if bold:
            cells = [f"**{c}**" if i > 1 else c for i, c in enumerate(cells)]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- {'met' if met else 'NOT met'}: {sentence}" for met, sentence in verdicts(results)]
    check = results["stats_check"]
    lines.append(f"- /stats counted every request as a hit: {'yes' if check['ok'] else 'NO'}")
    if "lookup" in results:
        lookup = results["lookup"]
        lines += [
            "",
            f"`DiskBackend.get` in process, {lookup['lookups']:,} random stored keys:",
            "",
            "| entries | " + " | ".join(LOOKUP_COLUMNS.values()) + " |",
            "|---:" * (len(LOOKUP_COLUMNS) + 1) + "|",
        ]
        for total, row in lookup["rows"].items():
            cells = " | ".join(f"{row[name]:.1f}" for name in LOOKUP_COLUMNS)
            lines.append(f"| {int(total):,} | {cells} |")
        ratios = " | ".join(f"{lookup['ratios'][name]:.2f}" for name in LOOKUP_COLUMNS)
        lines.append(f"| ratio | {ratios} |")
    return "\n".join(lines)

"""Printing benchmark results: rich tables, and a markdown block for the README."""

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


def print_tables(console: Console, results: dict) -> None:
    """The results as rich tables, then the /stats verdicts."""
    setup, labels, lookup = results["setup"], results["labels"], results["lookup"]
    http = Table(
        title=f"Cache hits over HTTP: median of {setup['rounds']} rounds x {setup['duration']:g} s"
        f" ({setup['generator']}, {setup['cpus']} CPUs)"
    )
    for column in ("conc", "server", "req/s", "p50 ms", "p99 ms", "req/s vs raw", "p99 vs FastAPI"):
        http.add_column(column, justify="left" if column == "server" else "right")
    for c, medians in results["http"].items():
        for key, row in medians.items():
            http.add_row(
                c,
                labels[key],
                f"{row['rps']:,.0f}",
                f"{row['p50_ms']:.2f}",
                f"{row['p99_ms']:.2f}",
                f"{row['rps_vs_raw']:.2f}",
                f"{row['p99_vs_fastapi']:.2f}",
                style="bold" if key == "toolsim" else None,
            )
        http.add_section()
    console.print(http)

    sizes = Table(
        title=f"Hits on a 10-entry vs a 10,000-entry API (c={setup['small_large_concurrency']})"
    )
    for column in ("server", "small req/s", "large req/s", "large/small", "small p99", "large p99"):
        sizes.add_column(column, justify="left" if column == "server" else "right")
    for key, row in results["small_vs_large"].items():
        sizes.add_row(
            labels[key],
            f"{row['small']['rps']:,.0f}",
            f"{row['large']['rps']:,.0f}",
            f"{row['rps_large_vs_small']:.2f}",
            f"{row['small']['p99_ms']:.2f} ms",
            f"{row['large']['p99_ms']:.2f} ms",
        )
    console.print(sizes)

    table = Table(title=f"DiskBackend.get, {lookup['lookups']:,} random stored keys (in process)")
    for column in ("entries", *LOOKUP_COLUMNS.values(), "build s"):
        table.add_column(column, justify="right")
    for total, row in lookup["rows"].items():
        cells = [f"{row[name]:.1f}" for name in LOOKUP_COLUMNS]
        table.add_row(f"{int(total):,}", *cells, f"{row['build_seconds']:.1f}")
    table.add_section()
    table.add_row("ratio", *(f"{lookup['ratios'][name]:.2f}" for name in LOOKUP_COLUMNS), "")
    console.print(table)
    if lookup["quick"]:
        console.print("[yellow]--quick: the large lookup backend holds 100,000, not 1M[/yellow]")

    for key, check in results["stats_check"].items():
        verdict = "[green]OK[/green]" if check["ok"] else "[red]FAILED[/red]"
        console.print(
            f"/stats check {labels[key]}: {check['measurements']} runs, "
            f"{check['requests']:,} requests counted by the client, {check['hits']:,} hits, "
            f"{check['misses']} misses, {check['errors']} errors: {verdict}"
        )
        for failed in check["failed"]:
            console.print(f"  [red]{failed}[/red]")


def markdown(results: dict) -> str:
    """The same numbers as a markdown block for the README."""
    setup, labels, lookup = results["setup"], results["labels"], results["lookup"]
    lines = [
        f"Cache hits, `POST /virtual`, uvicorn 1 worker, loopback, {setup['cpus']} CPUs shared "
        f"with the client ({setup['generator']}); median of {setup['rounds']} rounds x "
        f"{setup['duration']:g} s; 200 distinct cached calls rotated.",
        "",
        "| conc | server | req/s | p50 ms | p99 ms | req/s vs raw | p99 vs FastAPI |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for c, medians in results["http"].items():
        for key, row in medians.items():
            lines.append(
                f"| {c} | {labels[key]} | {row['rps']:,.0f} | {row['p50_ms']:.2f} | "
                f"{row['p99_ms']:.2f} | {row['rps_vs_raw']:.2f} | {row['p99_vs_fastapi']:.2f} |"
            )
    lines += [
        "",
        f"Hits on a 10-entry vs a 10,000-entry API (c={setup['small_large_concurrency']}):",
        "",
        "| server | small req/s | large req/s | large/small | small p99 ms | large p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, row in results["small_vs_large"].items():
        lines.append(
            f"| {labels[key]} | {row['small']['rps']:,.0f} | {row['large']['rps']:,.0f} | "
            f"{row['rps_large_vs_small']:.2f} | {row['small']['p99_ms']:.2f} | "
            f"{row['large']['p99_ms']:.2f} |"
        )
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
    if lookup["quick"]:
        lines.append("\n(`--quick`: the larger backend holds 100,000 entries, not 1,000,000.)")
    return "\n".join(lines)

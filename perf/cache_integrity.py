"""What the integrity check costs when a diskcache folder is opened (every server start).

Fills a fresh diskcache folder with ``--entries`` replies of about 1 KB, then opens
it ``--repeats`` times with the check (``PRAGMA quick_check``) and without it (the
baseline: what opening cost before the check), and prints the medians and their
difference, with the file's size.

Usage: python perf/cache_integrity.py [--entries 100000] [--repeats 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from toolsim.cache.disk import DiskBackend
from toolsim.cache.entry import CacheEntry, Reply, Source

BATCH = 5_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    return parser.parse_args()


def _fill(folder: Path, entries: int) -> None:
    backend = DiskBackend(folder)
    try:
        for start in range(0, entries, BATCH):
            backend.put_many(
                (
                    f"{n:064x}",
                    CacheEntry(
                        category="Data",
                        tool="tool",
                        api=f"api_{n % 50}",
                        arguments={"n": n},
                        reply=Reply(response={"n": n, "text": "x" * 800}),
                        source=Source.SIMULATED,
                    ),
                )
                for n in range(start, min(start + BATCH, entries))
            )
    finally:
        backend.close()


def _opening(folder: Path, *, check: bool, repeats: int) -> list[float]:
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        DiskBackend(folder, check=check).close()
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    """Fill, open both ways, print the medians."""
    args = parse_args()
    with TemporaryDirectory() as work:
        folder = Path(work) / "cache"
        _fill(folder, args.entries)
        size = (folder / "cache.db").stat().st_size
        checked = _opening(folder, check=True, repeats=args.repeats)
        plain = _opening(folder, check=False, repeats=args.repeats)
    result = {
        "entries": args.entries,
        "megabytes": round(size / 1e6, 1),
        "open_with_check_median_s": round(statistics.median(checked), 3),
        "open_without_check_median_s": round(statistics.median(plain), 3),
    }
    result["check_s"] = round(
        result["open_with_check_median_s"] - result["open_without_check_median_s"], 3
    )
    print(
        f"{args.entries} entries ({result['megabytes']} MB): opening takes "
        f"{result['open_with_check_median_s']} s with the integrity check, "
        f"{result['open_without_check_median_s']} s without (medians of {args.repeats})"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""What one call of each API costs: read from a JSON file, or drawn from a seed.

A cost file is a JSON object mapping function names (as agents see them) to
integer costs >= 1, with an optional ``"*"`` entry for every function not named.
Drawn costs are uniform in ``[low, high]`` and depend only on the seed and the
function name, so every query and every run prices an API the same.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from toolsim.errors import UserError
from toolsim.files import read_json

#: The key of a cost file's default price.
DEFAULT_KEY = "*"

_SEED_SPEC = re.compile(r"^seed:(-?\d+)(?::(\d+)-(\d+))?$")


def _valid_cost(value: object, where: str) -> int:
    # bool is an int subclass; a cost of True is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserError(f"{where}: a cost must be an integer >= 1, got {value!r}")
    return value


@dataclass(frozen=True)
class CostTable:
    """Integer prices per function name, with a default for the rest."""

    prices: Mapping[str, int] = field(default_factory=dict)
    default: int = 1
    #: Set for drawn costs: (seed, low, high).
    seed: tuple[int, int, int] | None = None
    source: str = "default (1 per call)"

    def __post_init__(self) -> None:
        _valid_cost(self.default, f"{self.source}: default")
        for name, cost in self.prices.items():
            _valid_cost(cost, f"{self.source}: {name}")

    def cost(self, function: str) -> int:
        """The price of one call of ``function``."""
        if function in self.prices:
            return self.prices[function]
        if self.seed is not None:
            seed, low, high = self.seed
            digest = hashlib.sha256(f"{seed}\0{function}".encode()).digest()
            return low + int.from_bytes(digest[:8], "big") % (high - low + 1)
        return self.default

    @classmethod
    def load(cls, path: Path) -> CostTable:
        """Read a cost file; any problem is a :class:`UserError` naming the file."""
        data = read_json(path, "cost file")
        if not isinstance(data, dict):
            raise UserError(f"the cost file {path} must hold a JSON object of name -> cost")
        prices = dict(data)
        default = prices.pop(DEFAULT_KEY, 1)
        return cls(prices=prices, default=default, source=str(path))

    @classmethod
    def drawn(cls, seed: int, low: int = 1, high: int = 10) -> CostTable:
        """Costs uniform in ``[low, high]``, fixed by ``seed`` and the function name."""
        _valid_cost(low, "seed costs: low")
        _valid_cost(high, "seed costs: high")
        if high < low:
            raise UserError(f"seed costs: high ({high}) is below low ({low})")
        return cls(seed=(seed, low, high), source=f"seed:{seed}:{low}-{high}")

    def describe(self) -> dict[str, object]:
        """A JSON-able description, for run records."""
        if self.seed is not None:
            seed, low, high = self.seed
            return {"seed": seed, "low": low, "high": high, "prices": dict(self.prices)}
        return {"source": self.source, "default": self.default, "prices": dict(self.prices)}


def parse_costs(spec: str | None) -> CostTable:
    """A ``--costs`` value: a JSON file, ``seed:N`` or ``seed:N:LOW-HIGH``; None means 1 each."""
    if spec is None or spec == "":
        return CostTable()
    match = _SEED_SPEC.match(spec)
    if match:
        seed, low, high = match.groups()
        return CostTable.drawn(int(seed), int(low or 1), int(high or 10))
    if spec.startswith("seed:"):
        raise UserError(f"bad cost spec {spec!r}: use seed:N or seed:N:LOW-HIGH")
    return CostTable.load(Path(spec))

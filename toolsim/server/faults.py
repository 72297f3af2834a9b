"""Seeded fault and latency profiles: the failures and slowness of real tools, on demand.

A profile (a YAML or JSON file, ``TOOLSIM_FAULTS__PROFILE``) gives every API,
or some tools or APIs, a :class:`FaultRule`: the share of calls that fail with
a server error (500/503), that are rate-limited (429 with ``Retry-After``), that
time out (504 after waiting ``timeout_seconds``), and a latency added to every
call (log-normal, by its median and 95th percentile)::

    default: {error_rate: 0.05, latency: {median_ms: 120, p95_ms: 900}}
    tools:   {"Swagger Petstore - OpenAPI 3.0": {rate_limit_rate: 0.2, retry_after: 2}}
    apis:    {getpetbyid_for_swagger_petstore_openapi_3_0: {timeout_rate: 0.1}}

Faults are applied by the service before the cache is read, on every door
alike, and are never stored. Each draw is a hash of the seed, the call's cache
key and how many times this process has seen that call, so the same seed and
the same calls give the same faults, whatever the order in which different
calls arrive. (Several workers each count their own calls.)
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from toolsim.catalog.models import ApiSpec
from toolsim.catalog.names import standardize
from toolsim.errors import InjectedFault, UserError

#: z of the 95th percentile of a standard normal distribution.
_Z95 = NormalDist().inv_cdf(0.95)
#: Most distinct calls whose occurrences are counted (then counting starts again).
MAX_COUNTED = 1_000_000


class Latency(BaseModel):
    """A log-normal latency: half of the calls wait less than ``median_ms``, 5% more than
    ``p95_ms`` (equal to the median, or unset: always the median)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    median_ms: float = Field(default=0.0, ge=0)
    p95_ms: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Latency:
        if self.p95_ms is not None and self.p95_ms < self.median_ms:
            raise ValueError("p95_ms must be at least median_ms")
        return self

    def seconds(self, uniform: float) -> float:
        """The latency at quantile ``uniform`` (in (0, 1)), in seconds."""
        if self.median_ms <= 0:
            return 0.0
        if not self.p95_ms or self.p95_ms == self.median_ms:
            return self.median_ms / 1000
        sigma = math.log(self.p95_ms / self.median_ms) / _Z95
        return self.median_ms * math.exp(sigma * NormalDist().inv_cdf(uniform)) / 1000


class FaultRule(BaseModel):
    """What happens to the calls of one API (shares of calls; they add up to at most 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    error_rate: float = Field(default=0.0, ge=0, le=1, description="500/503 server errors.")
    rate_limit_rate: float = Field(default=0.0, ge=0, le=1, description="429 with Retry-After.")
    retry_after: int = Field(default=1, ge=0, description="Seconds a rate limit asks to wait.")
    timeout_rate: float = Field(default=0.0, ge=0, le=1, description="504 after a long wait.")
    timeout_seconds: float = Field(default=30.0, ge=0, description="How long a timeout hangs.")
    latency: Latency = Field(default_factory=Latency)

    @model_validator(mode="after")
    def _at_most_all(self) -> FaultRule:
        if self.error_rate + self.rate_limit_rate + self.timeout_rate > 1:
            raise ValueError("error_rate + rate_limit_rate + timeout_rate must not exceed 1")
        return self


class FaultProfile(BaseModel):
    """A rule for every API, overridden per tool (by name) and per API (by function name)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: FaultRule = Field(default_factory=FaultRule)
    tools: dict[str, FaultRule] = Field(default_factory=dict)
    apis: dict[str, FaultRule] = Field(default_factory=dict)

    def rule(self, api: ApiSpec) -> FaultRule:
        """The rule of ``api``: its own, else its tool's, else the default."""
        own = self.apis.get(api.function_name)
        if own is not None:
            return own
        for name, rule in self.tools.items():
            if standardize(name) == api.tool_key:
                return rule
        return self.default


def load_profile(path: Path) -> tuple[FaultProfile, str]:
    """The profile in a YAML or JSON file, and the sha256 of its bytes (for the run's record)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read the fault profile {path}: {exc.strerror or exc}") from None
    try:
        raw = yaml.safe_load(data.decode("utf-8")) or {}
        profile = FaultProfile.model_validate(raw)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UserError(f"the fault profile {path} is not YAML or JSON: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or '(top)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise UserError(f"the fault profile {path} is invalid: {problems}") from None
    return profile, hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class Draw:
    """What a profile decided for one call: a fault kind (or None) and a delay in seconds."""

    fault: str | None
    delay: float


#: The fault kinds, as counted in ``/stats``.
SERVER_ERROR, RATE_LIMIT, TIMEOUT = "server_error", "rate_limit", "timeout"


class FaultInjector:
    """Draws and applies the faults of one profile under one seed."""

    def __init__(
        self, profile: FaultProfile, *, seed: int, name: str = "", sha256: str = ""
    ) -> None:
        self.profile = profile
        self.seed = seed
        self.name = name
        self.sha256 = sha256
        self._seen: dict[str, int] = {}

    @classmethod
    def from_file(cls, path: Path, *, seed: int) -> FaultInjector:
        """The injector of the profile in ``path``."""
        profile, digest = load_profile(path)
        return cls(profile, seed=seed, name=path.name, sha256=digest)

    def identity(self) -> dict[str, Any]:
        """What a run records to say which faults it met."""
        return {"profile": self.name, "sha256": self.sha256, "seed": self.seed}

    def draw(self, api: ApiSpec, key: str) -> Draw:
        """The fault and delay of this occurrence of the call ``key`` (counted)."""
        if len(self._seen) >= MAX_COUNTED:
            self._seen.clear()
        occurrence = self._seen.get(key, 0)
        self._seen[key] = occurrence + 1
        digest = hashlib.sha256(f"{self.seed}:{key}:{occurrence}".encode()).digest()
        pick = _uniform(digest[:8])
        rule = self.profile.rule(api)
        fault = None
        for kind, rate in (
            (SERVER_ERROR, rule.error_rate),
            (RATE_LIMIT, rule.rate_limit_rate),
            (TIMEOUT, rule.timeout_rate),
        ):
            if pick < rate:
                fault = kind
                break
            pick -= rate
        return Draw(fault, rule.latency.seconds(_uniform(digest[8:16])))

    async def meet(self, api: ApiSpec, key: str, drawn: Draw) -> None:
        """Wait the drawn delay, then raise the drawn fault (if any)."""
        if drawn.delay > 0:
            await asyncio.sleep(drawn.delay)
        if drawn.fault is not None:
            rule = self.profile.rule(api)
            if drawn.fault == TIMEOUT and rule.timeout_seconds > 0:
                await asyncio.sleep(rule.timeout_seconds)
            raise fault_error(drawn.fault, api, rule, key)


def fault_error(kind: str, api: ApiSpec, rule: FaultRule, key: str) -> InjectedFault:
    """The error a real API answers with for a fault of ``kind``: status, body, headers."""
    if kind == RATE_LIMIT:
        body = {
            "message": f"Too many requests: rate limit exceeded; retry after {rule.retry_after} s"
        }
        return InjectedFault(
            429, kind, body, api.function_name, headers={"retry-after": str(rule.retry_after)}
        )
    if kind == TIMEOUT:
        body = {
            "message": f"Gateway Timeout: no answer from upstream in {rule.timeout_seconds:g} s"
        }
        return InjectedFault(504, kind, body, api.function_name)
    # Real outages come as both: the last hex digit of the key picks one, deterministically.
    if key[-1:] in "13579bdf":
        return InjectedFault(503, kind, {"message": "Service Unavailable"}, api.function_name)
    return InjectedFault(500, kind, {"message": "Internal Server Error"}, api.function_name)


def _uniform(eight: bytes) -> float:
    """A number in (0, 1) from eight bytes of a hash."""
    return (int.from_bytes(eight, "big") + 0.5) / 2**64

"""The ``schema`` simulator: a deterministic reply from the API's documentation.

Needs no model. A documented response template is filled with plausible values
(:mod:`toolsim.simulator.template_filler`: arguments echoed into fields of the
same name, other values drawn from per-field-name tables, seeded by the cache
key). An API without a usable template (none, empty, or only a message field)
gets a shape inferred from its name, description and parameters
(:mod:`toolsim.simulator.cold_start`). A successful call is never answered with an
empty object or list.
"""

from __future__ import annotations

from typing import Any

from toolsim.cache.entry import Reply, Source
from toolsim.catalog.models import ApiSpec
from toolsim.simulator.base import Simulation, SimulationRequest
from toolsim.simulator.cold_start import cold_reply, usable_template
from toolsim.simulator.template_filler import synthesize


def schema_reply(api: ApiSpec, arguments: dict[str, Any], key: str) -> Any:
    """The schema simulator's response to a call (see the module docstring)."""
    if usable_template(api.template_response):
        response = synthesize(api.template_response, arguments, key)
        if response not in ({}, []):
            return response
    return cold_reply(api, arguments, key)


class SchemaSimulator:
    """Deterministic, offline simulator that answers from the API's documentation."""

    name = "schema"
    example_count = 0  # works from the documentation alone
    example_chars = 0

    async def simulate(self, request: SimulationRequest) -> Simulation:
        """Synthesise a reply from the API's template (or an inferred one)."""
        response = schema_reply(request.api, request.arguments, request.key)
        return Simulation(
            reply=Reply(error="", response=response),
            source=Source.SIMULATED,
            simulator=self.name,
        )

    async def aclose(self) -> None:
        """Nothing to release."""


def create_schema_simulator(**options: Any) -> SchemaSimulator:
    """Build the ``schema`` simulator; it takes no options and ignores any given."""
    del options
    return SchemaSimulator()

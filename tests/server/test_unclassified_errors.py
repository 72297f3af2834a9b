"""Error classes decide the status: input errors are 4xx, only an unclassified one is a 500."""

from __future__ import annotations

import logging

import pytest

from toolsim.errors import ToolsimError, UpstreamError, UserError

FX = "/v1/tools/convertcurrency_for_quick_fx_rates"
FX_ARGS = {"amount": 100, "base": "USD", "target": "EUR"}


@pytest.mark.parametrize(
    ("error", "status", "code", "logged"),
    [
        (UserError("bad input"), 400, "user_error", False),
        (UpstreamError("the model is down"), 502, "upstream_error", False),
        (ToolsimError("unclassified"), 500, "internal_error", True),
    ],
    ids=["user", "upstream", "bare"],
)
async def test_status_follows_the_error_class(fake, client, caplog, error, status, code, logged):
    fake.outcomes.append(error)
    with caplog.at_level(logging.ERROR, logger="toolsim.server"):
        reply = await client.post(FX, json=FX_ARGS)

    assert reply.status_code == status
    assert reply.json()["error"]["type"] == code
    assert reply.json()["error"]["message"] == error.message
    unclassified = [r for r in caplog.records if "unclassified error on POST" in r.getMessage()]
    assert bool(unclassified) is logged
    assert all(record.exc_info for record in unclassified)  # with its traceback

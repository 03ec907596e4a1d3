"""`Sforce-Limit-Info` feeds the account's rate limiter: once the org's daily allocation is spent, the next call
fails at once with `QuotaExhausted` instead of being sent."""

from __future__ import annotations

import pytest

import federation
from connectors.salesforce.emulator.rest import API_LIMIT
from federation.errors import QuotaExhausted
from federation.ratelimit import Observation
from federation.sandbox import Sandbox


def test_a_spent_daily_allocation_stops_calls_before_they_are_sent() -> None:
    with Sandbox(records=100, sources=["financialforce"]) as sandbox:
        server = sandbox.server("financialforce")
        with federation.connect({"fin": sandbox.url("financialforce")}) as con:
            con.execute("SELECT Id FROM fin.Account LIMIT 1").fetchall()  # log in and describe
            limiter = con.federation.sources["fin"].http.limiter
            assert limiter is not None
            try:
                # Other programs of the org have spent all but one call of today's allocation.
                server._rest.api_calls = API_LIMIT - 1  # the emulator's org-wide counter
                con.execute("SELECT Id FROM fin.Account LIMIT 1").fetchall()  # answered with api-usage=15000/15000
                sent = server.calls
                with pytest.raises(QuotaExhausted, match="daily API call quota is used up"):
                    con.execute("SELECT Id FROM fin.Account LIMIT 1").fetchall()
                assert server.calls == sent
            finally:
                # The limiter is the process's: leave it as a fresh org's, for whatever reuses this port.
                limiter.observe((Observation("daily", API_LIMIT),))

"""The Exact Online sandbox spec (entry point `exactonline` in `duckfed.sandbox`) and its conformance case.

The sandbox's emulator enforces no quota, and its connection properties lift the client-side limit out of reach
(`RateLimit`, the same aligned "minutely" window a thousand times wider), so tests and demos never wait out a
minute; tests of the limits, and the benchmark, give the
emulator Exact's own quotas (`EXACT_QUOTAS`: 60 calls a minute and 5,000 a day per app and division) and
connect without the override.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.exactonline.calls import CALLS
from connectors.exactonline.demo import demo
from connectors.exactonline.emulator import CLIENT_ID, CLIENT_SECRET, ExactOnlineEmulator
from federation.sandbox import ConformanceCase, SandboxSpec

#: The shape of Exact's limits (an aligned "minutely" window the headers feed) at a rate the sandbox never reaches.
SANDBOX_RATE_LIMIT = "60000/minute aligned"


def _new_account(n: int) -> Mapping[str, object]:
    return {"Name": f"Conformance account {n}", "Email": f"conformance.{n}@example.com", "IsCompetitor": False}


exactonline = SandboxSpec(
    build=lambda records: ExactOnlineEmulator(records),
    credentials={
        "Region": "Netherlands",
        "Division": "5512",
        "InitiateOAuth": "GETANDREFRESH",
        "OAuthClientId": CLIENT_ID,
        "OAuthClientSecret": CLIENT_SECRET,
        "RateLimit": SANDBOX_RATE_LIMIT,
    },
    oauth_callback=True,
    demo=demo,
    conformance=ConformanceCase(
        table="Accounts",
        key="ID",
        # The 60-record endpoint instead of the bulk one (1,000 a call).
        small_pages={"UseBulkEndpoints": "false"},
        page_size=60,
        # A new connection uses the token an earlier one stored, and Division is given: no call before the page.
        login_calls=0,
        hostile_column="Name",
        scan_kind="pages",
        writable_table="Accounts",
        new_row=_new_account,
        update_column="Remarks",
        calls=CALLS,
    ),
)

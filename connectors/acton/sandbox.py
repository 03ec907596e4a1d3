"""The Act-On sandbox spec (entry point `acton` in `duckfed.sandbox`) and its conformance case.

Connections sign in by the authorization-code grant, as the vendor's example does (InitiateOAuth=GETANDREFRESH
with the app's client id and secret); the conformance suite reads and writes the "Newsletter" contact list.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.acton.calls import CALLS
from connectors.acton.demo import demo
from connectors.acton.emulator import CLIENT_ID, CLIENT_SECRET, ActOnEmulator
from federation.sandbox import ConformanceCase, SandboxSpec


def _new_contact(n: int) -> Mapping[str, object]:
    return {"E-mail Address": f"conformance.{n}@example.com", "First Name": f"Conformance {n}", "Company": "Acme"}


acton = SandboxSpec(
    build=lambda records: ActOnEmulator(records),
    credentials={"InitiateOAuth": "GETANDREFRESH", "OAuthClientId": CLIENT_ID, "OAuthClientSecret": CLIENT_SECRET},
    oauth_callback=True,
    demo=demo,
    conformance=ConformanceCase(
        table="List_Newsletter",
        key="ContactId",
        small_pages={"PageSize": "200"},
        page_size=200,
        # A new connection uses the token an earlier one stored: no login call.
        login_calls=0,
        hostile_column="E-mail Address",
        scan_kind="records",
        writable_table="List_Newsletter",
        new_row=_new_contact,
        update_column="Company",
        calls=CALLS,
    ),
)

"""The template source's sandbox spec (entry point `template` in `duckfed.sandbox`) and its conformance case."""

from __future__ import annotations

from collections.abc import Mapping

from connectors.template.calls import CALLS
from connectors.template.demo import demo
from connectors.template.emulator import CLIENT_ID, CLIENT_SECRET, TemplateEmulator
from federation.sandbox import ConformanceCase, SandboxSpec


def _new_contact(n: int) -> Mapping[str, object]:
    return {"name": f"Conformance contact {n}", "email": f"conformance.{n}@example.com", "active": True}


template = SandboxSpec(
    build=lambda records: TemplateEmulator(records),
    credentials={"InitiateOAuth": "GETANDREFRESH", "OAuthClientId": CLIENT_ID, "OAuthClientSecret": CLIENT_SECRET},
    oauth_callback=True,
    demo=demo,
    conformance=ConformanceCase(
        table="contacts",
        key="id",
        small_pages={"PageSize": "200"},
        page_size=200,
        # A new connection uses the token an earlier one stored: no login call (the first one costs two, the
        # consent redirect and the token call).
        login_calls=0,
        hostile_column="name",
        scan_kind="records",
        writable_table="contacts",
        new_row=_new_contact,
        update_column="city",
        calls=CALLS,
    ),
)

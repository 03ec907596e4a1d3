"""The Sage Intacct sandbox spec (entry point `sageintacct` in `duckfed.sandbox`) and its conformance case.

The credentials are the placeholders of the vendor's connection-string example, which the emulator accepts.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.sageintacct.calls import CALLS
from connectors.sageintacct.demo import demo
from connectors.sageintacct.emulator import COMPANY, PASSWORD, SENDER_ID, SENDER_PASSWORD, USER, IntacctEmulator
from federation.sandbox import ConformanceCase, SandboxSpec

CREDENTIALS = {
    "User": USER,
    "CompanyId": COMPANY,
    "Password": PASSWORD,
    "SenderId": SENDER_ID,
    "SenderPassword": SENDER_PASSWORD,
}


def _new_customer(n: int) -> Mapping[str, object]:
    return {"Customerid": f"CONF-{n:05d}", "Name": f"Conformance customer {n}", "Comments": "created by the suite"}


sageintacct = SandboxSpec(
    build=lambda records: IntacctEmulator(records),
    credentials=CREDENTIALS,
    demo=demo,
    conformance=ConformanceCase(
        table="Customer",
        key="Recordno",
        small_pages={"PageSize": "200"},
        page_size=200,
        login_calls=1,  # getAPISession
        hostile_column="Name",
        scan_kind="query",
        writable_table="Customer",
        new_row=_new_customer,
        update_column="Comments",
        calls=CALLS,
    ),
)

"""The sandbox specs for the Salesforce-platform sources (entry points in `duckfed.sandbox`).

The credentials are the placeholders of the vendors' own connection-string examples, which the emulator accepts.
Both sources join the conformance suite on their main table, and write to Account.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.salesforce.calls import CALLS
from connectors.salesforce.demo import demo
from connectors.salesforce.emulator import PASSWORD, SECURITY_TOKEN, USERNAME, SalesforceEmulator
from federation.sandbox import ConformanceCase, SandboxSpec

CREDENTIALS = {"User": USERNAME, "Password": PASSWORD, "SecurityToken": SECURITY_TOKEN}


def _new_account(n: int) -> Mapping[str, object]:
    return {"Name": f"Conformance account {n}", "Industry": "Media", "NumberOfEmployees": n}


def _case(table: str) -> ConformanceCase:
    return ConformanceCase(
        table=table,
        key="Id",
        small_pages={"PageSize": "200"},
        page_size=200,
        login_calls=1,  # one SOAP login
        hostile_column="Name",
        scan_kind="scan",  # the emulator's group of query, queryAll and queryMore
        writable_table="Account",
        new_row=_new_account,
        update_column="Site",
        calls=CALLS if table == "Account" else (),  # one matrix for the platform: the same connector
    )


financialforce = SandboxSpec(
    lambda records: SalesforceEmulator("financialforce", records),
    CREDENTIALS,
    conformance=_case("Account"),
    demo=demo,  # shows both Salesforce-platform sources
)
certinia = SandboxSpec(
    lambda records: SalesforceEmulator("certinia", records), CREDENTIALS, conformance=_case("pse__Proj__c")
)

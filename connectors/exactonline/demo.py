"""The Exact Online source's part of `duckfed demo`: OAuth consent on the sandbox, then a query whose filter the
API evaluates (`$filter`), over the bulk endpoint, with the API calls it cost."""

from __future__ import annotations

from pathlib import Path

from federation.connection import connect
from federation.sandbox import Sandbox


def demo(sandbox: Sandbox, workdir: Path) -> None:
    print("\n== Exact Online (REST/OData, OAuth with rotating refresh tokens, 60 calls a minute per division)")
    before = sandbox.calls("exactonline")
    with connect({"exact": sandbox.url("exactonline")}) as con:
        print(
            con.sql(
                "SELECT SalesCurrency, count(*) AS competitors, round(avg(CreditLineSales), 2) AS avg_credit "
                "FROM exact.Accounts WHERE IsCompetitor AND Blocked = false GROUP BY SalesCurrency ORDER BY 1"
            )
        )
    print(f"   API calls: {sandbox.calls('exactonline') - before} (consent, token, then bulk pages of 1,000)")

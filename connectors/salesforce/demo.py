"""The Salesforce-platform part of `duckfed demo`: the ORM on `financialforce://`, one SQL statement across
FinancialForce and Certinia, and a streamed Parquet export.

1. The SQLAlchemy ORM on `financialforce://`: a mapped class, a `filter_by` pushed to the API as SOQL.
2. One SQL statement across two sources (FinancialForce invoices, Certinia timecards): joins, GROUP BY and a
   window function, which DuckDB runs over the rows the connectors stream.
3. A Parquet export streamed from the API into a file, and read back.
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import duckdb
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from federation.connection import connect
from federation.sandbox import Sandbox


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "Account"

    Id: Mapped[str] = mapped_column(primary_key=True)
    Name: Mapped[str]
    Industry: Mapped[str | None]
    BillingCity: Mapped[str | None]
    AnnualRevenue: Mapped[Decimal | None]


CROSS_SOURCE_SQL = """
WITH invoiced AS (
    SELECT c2g__Account__c AS account_id, sum(c2g__InvoiceTotal__c) AS invoiced, count(*) AS invoices
    FROM fin.c2g__codaInvoice__c
    GROUP BY ALL
), worked AS (
    SELECT p.pse__Account__c AS account_id, sum(t.pse__Total_Hours__c) AS hours
    FROM psa.pse__Timecard_Header__c t JOIN psa.pse__Proj__c p ON t.pse__Project__c = p.Id
    GROUP BY ALL
)
SELECT a.Name AS account, a.Industry AS industry, i.invoices, i.invoiced, round(w.hours, 1) AS hours,
       round(i.invoiced / nullif(w.hours, 0), 2) AS invoiced_per_hour,
       rank() OVER (PARTITION BY a.Industry ORDER BY i.invoiced DESC) AS rank_in_industry
FROM fin.Account a JOIN invoiced i ON i.account_id = a.Id JOIN worked w ON w.account_id = a.Id
ORDER BY i.invoiced DESC
LIMIT 10
"""


def _step(title: str) -> float:
    print(f"\n== {title}")
    return time.perf_counter()


def demo(sandbox: Sandbox, workdir: Path) -> None:
    """Run the steps above against the running sandbox, writing files into `workdir`."""
    started = _step("SQLAlchemy ORM: session.query(Account).filter_by(Industry='Banking')")
    engine = create_engine(sandbox.url("financialforce"))
    print(f"   engine: {engine.url!r}")
    before = sandbox.calls("financialforce")
    with Session(engine) as session:
        banks = (
            session.query(Account)
            .filter_by(Industry="Banking")
            .order_by(Account.AnnualRevenue.desc().nulls_last())
            .limit(5)
            .all()
        )
        for account in banks:
            print(f"   {account.Name:<40} {account.BillingCity or '-':<16} {account.AnnualRevenue}")
        total = session.scalar(select(func.count()).select_from(Account).where(Account.Industry == "Banking"))
    print(f"   {total} banking accounts; the Industry filter went to the API as SOQL WHERE.")
    print(
        f"   API calls: {sandbox.calls('financialforce') - before} (login, objects, describe, queries)"
        f" in {time.perf_counter() - started:.2f}s"
    )
    engine.dispose()

    started = _step("One SQL statement across FinancialForce (fin) and Certinia (psa)")
    calls = sandbox.calls("financialforce") + sandbox.calls("certinia")
    with connect({"fin": sandbox.url("financialforce"), "psa": sandbox.url("certinia")}) as con:
        print(con.sql(CROSS_SOURCE_SQL))
        spent = sandbox.calls("financialforce") + sandbox.calls("certinia") - calls
        print(f"   API calls: {spent} across both sources in {time.perf_counter() - started:.2f}s")

        output = workdir / "invoices.parquet"
        started = _step(f"Parquet export of every sales invoice to {output}")
        con.sql("SELECT * FROM fin.c2g__codaInvoice__c").write_parquet(str(output))
        check = duckdb.connect().execute(
            "SELECT count(*), sum(c2g__InvoiceTotal__c) FROM read_parquet($1)", [str(output)]
        )
        rows, amount = check.fetchone() or (0, 0)
        print(f"   {rows} invoices, total {amount}, written in {time.perf_counter() - started:.2f}s")

"""Sage Intacct's part of `duckfed demo`: a GL trial balance and an AR aging in SQL across tables, with the API
calls they cost."""

from __future__ import annotations

from pathlib import Path

from federation.connection import connect
from federation.sandbox import Sandbox

TRIAL_BALANCE = """
SELECT a.Accountno, a.Title,
       sum(CASE WHEN e.Tr_type = 1 THEN e.Amount ELSE 0 END) AS debit,
       sum(CASE WHEN e.Tr_type = -1 THEN e.Amount ELSE 0 END) AS credit
FROM sage.GLEntry e JOIN sage.GLAccount a ON a.Accountno = e.Accountno
GROUP BY ALL ORDER BY a.Accountno
"""
AR_AGING = """
SELECT c.Customerid, c.Name,
       sum(i.Totaldue) FILTER (WHERE DATE '2025-01-31' - i.Whendue <= 30) AS current_30,
       sum(i.Totaldue) FILTER (WHERE DATE '2025-01-31' - i.Whendue BETWEEN 31 AND 60) AS days_31_60,
       sum(i.Totaldue) FILTER (WHERE DATE '2025-01-31' - i.Whendue > 60) AS over_60,
       sum(i.Totaldue) AS total_due
FROM sage.ARInvoice i JOIN sage.Customer c ON c.Customerid = i.Customerid
WHERE i.Totaldue > 0
GROUP BY ALL ORDER BY total_due DESC LIMIT 5
"""


def demo(sandbox: Sandbox, workdir: Path) -> None:
    print("\n== Sage Intacct (XML gateway: getAPISession, query pages by RECORDNO, errors inside HTTP 200)")
    before = sandbox.calls("sageintacct")
    with connect({"sage": sandbox.url("sageintacct")}) as con:
        print("GL trial balance (debits equal credits in every batch):")
        print(con.sql(TRIAL_BALANCE))
        print("AR aging, top customers by amount due:")
        print(con.sql(AR_AGING))
    print(f"   API calls: {sandbox.calls('sageintacct') - before} (login, inspect, lookups, query pages)")

"""Sage Intacct's call-count matrix (`federation.sandbox.CallCase`), on the sandbox's 2,500 customers and 1,250 AR
invoices. `query` serves up to 2,000 records a call, so a scan of the customers costs 2."""

from __future__ import annotations

from federation.sandbox import CallCase

#: 1,200 record numbers: more than one `<in>` element takes (1,000), so the filter holds two, in one call.
_RECORDS = ", ".join(str(n) for n in range(1, 2400, 2))
_UNSORTED = (
    "the connector pushes no order: the gateway's null order and text collation are undocumented, so DuckDB sorts "
    "a scan"
)

CALLS = (
    CallCase("point lookup", "SELECT * FROM src.Customer WHERE Recordno = 42", 1, 1),
    CallCase("range", "SELECT Recordno FROM src.Customer WHERE Totaldue BETWEEN 1000 AND 2000", 1, 1),
    CallCase(
        "IN list longer than one chunk", f"SELECT Recordno FROM src.Customer WHERE Recordno IN ({_RECORDS})", 1, 1
    ),
    CallCase("LIMIT", "SELECT * FROM src.Customer LIMIT 10", 1, 1),
    CallCase("top-N", "SELECT Recordno, Totaldue FROM src.Customer ORDER BY Totaldue DESC LIMIT 5", 2, 1, _UNSORTED),
    CallCase("count", "SELECT count(*) FROM src.Customer WHERE Totaldue > 1000", 1, 1),
    CallCase(
        "GROUP BY text",
        "SELECT Status, count(*) FROM src.Customer GROUP BY Status",
        2,
        1,
        "the gateway's text collation is undocumented (it may merge 'Acme' and 'ACME'): DuckDB groups a scan",
    ),
    CallCase("GROUP BY number", "SELECT Creditlimit, count(*) FROM src.Customer GROUP BY Creditlimit", 1, 1),
    CallCase(
        "selective join",
        "SELECT c.Name, i.* FROM src.Customer c JOIN src.ARInvoice i ON i.Customerid = c.Customerid "
        "WHERE c.Recordno = 4",
        2,
        2,
    ),
    # The customers are read whole (2 calls: `query` can't evaluate lower()), their invoices by key (1).
    CallCase(
        "join on a non-pushable filter",
        "SELECT c.Name, i.Recordno FROM src.Customer c JOIN src.ARInvoice i ON i.Customerid = c.Customerid "
        "WHERE lower(c.Name) = 'foods 4'",
        3,
        3,
    ),
    CallCase("LIKE prefix", "SELECT Recordno FROM src.Customer WHERE Name LIKE 'Health%'", 1, 1),
)

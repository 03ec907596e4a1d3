"""The Salesforce platform's call-count matrix (`federation.sandbox.CallCase`), on the sandbox's 2,500 Accounts
and Opportunities. SOQL serves up to 2,000 records a call (queryMore after that), so a scan of either costs 2."""

from __future__ import annotations

from federation.sandbox import CallCase

#: Values of one IN list: longer than the ~12,000 URL-encoded bytes one query may take, so split into 3 queries.
_EMPLOYEES = ", ".join(str(n) for n in range(0, 60_000, 20))
_ACCOUNT = "'0015g000000009PAAQ'"  # an Account with 7 Opportunities

CALLS = (
    CallCase("point lookup", f"SELECT * FROM src.Account WHERE Id = {_ACCOUNT}", 1, 1),
    CallCase("range", "SELECT Id FROM src.Account WHERE NumberOfEmployees BETWEEN 1000 AND 5000", 1, 1),
    # The URI cap (16,384 bytes with the headers) holds ~1,200 of these values per query: 3 queries.
    CallCase(
        "IN list longer than one chunk",
        f"SELECT Id FROM src.Account WHERE NumberOfEmployees IN ({_EMPLOYEES})",
        3,
        2,
        "the list is split by URL length into 3 queries; a scan of the 2,500 Accounts (2 calls) would cost one "
        "less, but the table's size is unknown without a call",
    ),
    CallCase("LIMIT", "SELECT * FROM src.Account LIMIT 10", 1, 1),
    CallCase("top-N", "SELECT Id, NumberOfEmployees FROM src.Account ORDER BY NumberOfEmployees DESC LIMIT 5", 1, 1),
    CallCase("count", "SELECT count(*) FROM src.Account WHERE NumberOfEmployees > 10000", 1, 1),
    CallCase(
        "GROUP BY text",
        "SELECT Industry, count(*) FROM src.Account GROUP BY Industry",
        2,
        1,
        "SOQL groups text without regard to case ('Acme' and 'ACME' form one group): DuckDB groups a scan",
    ),
    CallCase(
        "GROUP BY number",
        "SELECT NumberOfEmployees, count(*) FROM src.Account WHERE NumberOfEmployees < 2000 GROUP BY 1",
        1,
        1,
    ),
    CallCase(
        "selective join",
        "SELECT a.Name, o.Name, o.Amount FROM src.Account a JOIN src.Opportunity o ON o.AccountId = a.Id "
        f"WHERE a.Id = {_ACCOUNT}",
        2,
        2,
    ),
    # The Accounts are read whole (2 calls: SOQL can't evaluate lower()), their Opportunities by key (1).
    CallCase(
        "join on a non-pushable filter",
        "SELECT a.Name, o.Name FROM src.Account a JOIN src.Opportunity o ON o.AccountId = a.Id "
        "WHERE lower(a.Name) = 'silver pharma plc'",
        3,
        3,
    ),
    CallCase("LIKE prefix", "SELECT Id FROM src.Account WHERE Name LIKE 'Silver%'", 1, 1),
)

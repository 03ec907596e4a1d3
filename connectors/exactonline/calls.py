"""Exact Online's call-count matrix (`federation.sandbox.CallCase`), on the sandbox's 2,500 Accounts and Contacts.
The bulk endpoints serve 1,000 records a call, so a scan of either costs 3."""

from __future__ import annotations

from federation.sandbox import CallCase

#: 300 account codes (18 characters, right-aligned): their `or`-ed `eq`s pass the 6,000-character URL cap, so the
#: filter is split in two.
_CODES = ", ".join(f"'{n:>18}'" for n in range(1000, 1300))
_ACCOUNT = "'57c17d24-3b94-546a-8c87-0002aa4204d3'"
_NO_GROUPS = "OData v2 has no GROUP BY (Exact counts only, with $count): DuckDB groups a scan"

CALLS = (
    CallCase("point lookup", f"SELECT * FROM src.Accounts WHERE ID = {_ACCOUNT}", 1, 1),
    CallCase("range", "SELECT ID FROM src.Accounts WHERE CreditLineSales BETWEEN 1000 AND 2000", 1, 1),
    CallCase("IN list longer than one chunk", f"SELECT ID FROM src.Accounts WHERE Code IN ({_CODES})", 2, 2),
    CallCase("LIMIT", "SELECT * FROM src.Accounts LIMIT 10", 1, 1),
    CallCase(
        "top-N",
        "SELECT ID, Code FROM src.Accounts ORDER BY Code DESC LIMIT 5",
        3,
        1,
        "the connector sends no $orderby: Exact sorts text under a case-insensitive collation that ignores trailing "
        "spaces, not DuckDB's order",
    ),
    CallCase("count", "SELECT count(*) FROM src.Accounts WHERE IsAccountant = 2", 1, 1),
    CallCase("GROUP BY text", "SELECT Status, count(*) FROM src.Accounts GROUP BY Status", 3, 1, _NO_GROUPS),
    CallCase(
        "GROUP BY number", "SELECT IsAccountant, count(*) FROM src.Accounts GROUP BY IsAccountant", 3, 1, _NO_GROUPS
    ),
    CallCase(
        "selective join",
        "SELECT a.Name, c.FullName FROM src.Accounts a JOIN src.Contacts c ON c.Account = a.ID "
        f"WHERE a.ID = {_ACCOUNT}",
        2,
        2,
    ),
    # The Accounts are read whole (3 calls: OData can't evaluate lower()); their 125 keys fetch the Contacts in
    # chunks of 80 (2 calls).
    CallCase(
        "join on a non-pushable filter",
        "SELECT a.Name, c.FullName FROM src.Accounts a JOIN src.Contacts c ON c.Account = a.ID "
        "WHERE lower(a.Name) = 'software group'",
        5,
        5,
    ),
    CallCase("LIKE prefix", "SELECT ID FROM src.Accounts WHERE Name LIKE 'Software%'", 1, 1),
)

"""The template API's call-count matrix (`federation.sandbox.CallCase`), on the sandbox's 2,500 contacts and 250
companies. A page holds up to 500 records, so a scan of the contacts costs 5; the API filters, sorts, groups and
counts as DuckDB does, so every shape reaches the minimum."""

from __future__ import annotations

from federation.sandbox import CallCase

#: 1,200 ids: one request (the `where` tree takes any number), 1,200 rows: 3 pages.
_IDS = ", ".join(str(n) for n in range(1, 2400, 2))

CALLS = (
    CallCase("point lookup", "SELECT * FROM src.contacts WHERE id = 42", 1, 1),
    CallCase("range", "SELECT id FROM src.contacts WHERE score BETWEEN 10 AND 20", 1, 1),
    CallCase("IN list longer than one chunk", f"SELECT id FROM src.contacts WHERE id IN ({_IDS})", 3, 3),
    CallCase("LIMIT", "SELECT * FROM src.contacts LIMIT 10", 1, 1),
    CallCase("top-N", "SELECT id, score FROM src.contacts ORDER BY score DESC LIMIT 5", 1, 1),
    CallCase("count", "SELECT count(*) FROM src.contacts WHERE score > 50", 1, 1),
    CallCase("GROUP BY text", "SELECT city, count(*) FROM src.contacts GROUP BY city", 1, 1),
    CallCase("GROUP BY number", "SELECT company_id, count(*) FROM src.contacts GROUP BY company_id", 1, 1),
    CallCase(
        "selective join",
        "SELECT k.name, c.name FROM src.companies k JOIN src.contacts c ON c.company_id = k.id WHERE k.id = 7",
        2,
        2,
    ),
    # Every company (one page: the API can't evaluate lower()), then the contacts of the one that matches.
    CallCase(
        "join on a non-pushable filter",
        "SELECT k.name, c.name FROM src.companies k JOIN src.contacts c ON c.company_id = k.id "
        "WHERE lower(k.name) = 'textiles 7'",
        2,
        2,
    ),
    CallCase("LIKE prefix", "SELECT id FROM src.contacts WHERE name LIKE 'James%'", 1, 1),
)

"""Performance check for the SOQL engine (run by hand, not collected by pytest): 100,000 generated Accounts.

Run from the repository root:

    /tmp/venv/bin/python -m tests.connectors.salesforce.emulator.soql.perf_soql [records]

Each query is parsed, executed, and every row rendered page by page (2,000 a page, as the server reads them);
the CPU time of the whole is printed. The budget is "well under a second" for a full scan with filter, sort and
rendering.
"""

from __future__ import annotations

import random
import sys
import time

from connectors.salesforce.emulator.soql import execute, parse
from tests.connectors.salesforce.emulator.soql.conftest import NOW, MemoryCatalog, build_catalog

INDUSTRIES = ["Banking", "Retail", "Energy", "Media", "Technology", None]
QUERIES = [
    "SELECT Id, Name, Industry, AnnualRevenue, CreatedDate, LastActivityDate, OwnerId FROM Account",
    "SELECT Id, Name, Owner.Name, Owner.Email FROM Account WHERE Industry = 'banking' AND AnnualRevenue > 1000 "
    "ORDER BY Name",
    "SELECT Id, Name, AnnualRevenue FROM Account ORDER BY CreatedDate DESC, Name",
    "SELECT Id, Name FROM Account WHERE Name LIKE '%7%' OR (CreatedDate = LAST_N_DAYS:30 AND IsActive__c = true)",
    "SELECT Name FROM Account WHERE Industry NOT IN ('Media', 'Energy') ORDER BY NumberOfEmployees DESC NULLS LAST",
    "SELECT Industry, COUNT(Id), SUM(AnnualRevenue), MAX(CreatedDate) FROM Account GROUP BY Industry",
    "SELECT COUNT() FROM Account WHERE Name LIKE 'account 1%'",
]


def generate(records: int) -> MemoryCatalog:
    catalog = build_catalog()
    rng = random.Random(7)
    users = [catalog.add("User", Name=f"User {n}", Email=f"u{n}@example.com")["Id"] for n in range(50)]
    for n in range(records):
        day = rng.randrange(0, 730)
        catalog.add(
            "Account",
            Name=f"Account {rng.randrange(10**6)}",
            Industry=rng.choice(INDUSTRIES),
            AnnualRevenue=rng.choice([None, rng.randrange(10**7), rng.random() * 10**6]),
            NumberOfEmployees=rng.choice([None, rng.randrange(10**4)]),
            IsActive__c=rng.random() < 0.5,
            CreatedDate=f"2023-{(day % 12) + 1:02d}-{(day % 28) + 1:02d}T{n % 24:02d}:00:00.000+0000",
            LastActivityDate=f"2024-{(day % 12) + 1:02d}-{(day % 28) + 1:02d}",
            OwnerId=rng.choice([*users, None]),
            Tags__c="A;B",
            Code__c=f"c{n}",
        )
    return catalog


def main() -> None:
    records = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    catalog = generate(records)
    print(f"{records:,} accounts")
    for text in QUERIES:
        start = time.process_time()
        result = execute(parse(text), catalog, now=NOW)
        rendered = 0
        for offset in range(0, len(result.rows), 2000):
            rendered += len(result.rows[offset : offset + 2000])
        elapsed = time.process_time() - start
        print(f"{elapsed * 1000:7.0f} ms  {result.total_size:>7,} rows  {text}")


if __name__ == "__main__":
    main()

"""The sandbox emulator's own cost: start-up, data generation, and SOQL queries over 100,000 Accounts.

    python benchmarks/emulator.py [--records 100000]

Every query is parsed, executed and each row rendered page by page (2,000 a page, as the server reads them) on
the emulator's real store; the table shows CPU milliseconds, the budget being well under a second for a full
scan, so that benchmarks against the sandbox measure clients, not the emulator.
"""

from __future__ import annotations

import argparse
import time

from connectors.salesforce.emulator import SalesforceEmulator
from connectors.salesforce.emulator.soql import execute, parse

QUERIES = [
    "SELECT Id, Name, Industry, AnnualRevenue, CreatedDate, OwnerId FROM Account",
    "SELECT Id, Name, Owner.Name, Owner.Email FROM Account WHERE Industry = 'banking' AND AnnualRevenue > 1000 "
    "ORDER BY Name",
    "SELECT Id, Name, AnnualRevenue FROM Account ORDER BY CreatedDate DESC, Name",
    "SELECT Id, Name FROM Account WHERE Name LIKE '%7%' OR (CreatedDate = LAST_N_DAYS:30 AND Key_Account__c = true)",
    "SELECT Name FROM Account WHERE Industry NOT IN ('Media', 'Energy') ORDER BY NumberOfEmployees DESC NULLS LAST",
    "SELECT Industry, COUNT(Id), SUM(AnnualRevenue), MAX(CreatedDate) FROM Account GROUP BY Industry",
    "SELECT COUNT() FROM Account WHERE Name LIKE 'a%'",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()

    started = time.perf_counter()
    emulator = SalesforceEmulator("financialforce", records=args.records).start()
    start_ms = (time.perf_counter() - started) * 1000
    started = time.process_time()
    emulator.store.records("Account")
    generate_ms = (time.process_time() - started) * 1000
    print(f"{args.records:,} Accounts per main object\n")
    print(f"{'CPU ms':>8}  {'rows':>8}  what")
    print(f"{start_ms:>8.0f}  {'':>8}  start the server (data is generated on first touch)")
    print(f"{generate_ms:>8.0f}  {args.records:>8,}  generate the Accounts")
    for text in QUERIES:
        started = time.process_time()
        result = execute(parse(text), emulator.store)
        for offset in range(0, len(result.rows), 2000):
            result.rows[offset : offset + 2000]
        elapsed = (time.process_time() - started) * 1000
        print(f"{elapsed:>8.0f}  {result.total_size:>8,}  {text}")
    emulator.stop()


if __name__ == "__main__":
    main()

"""API calls spent per query, measured on the sandbox's FinancialForce emulator.

    python benchmarks/calls.py [--records 10000]

Prints one row per query: the calls it cost with pushdown on and (for comparison) off, by kind.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from collections.abc import Callable

import federation
from federation.sandbox import Sandbox


def spent(emulator: object, action: Callable[[], object]) -> Counter[str]:
    before = Counter(emulator.calls_by_kind)  # type: ignore[attr-defined]
    action()
    return Counter(emulator.calls_by_kind) - before  # type: ignore[attr-defined]


def describe(counts: Counter[str]) -> str:
    return f"{sum(counts.values()):>3}  ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    args = parser.parse_args()
    rows: list[tuple[str, str, str]] = []
    with Sandbox(records=args.records, sources=["financialforce"]) as sandbox:
        emulator = sandbox.server("financialforce")

        def open_connection(cache: str, **extra: str) -> federation.Connection:
            props = {**sandbox.properties("financialforce"), "MetadataCacheDir": cache, **extra}
            return federation.connect({"fin": {**props, "scheme": "financialforce"}})

        with tempfile.TemporaryDirectory() as cache:
            pushed, local = open_connection(cache), open_connection(cache, Pushdown="false")
            for con in (pushed, local):
                con.execute("SELECT Id FROM fin.Account LIMIT 1").fetchall()  # log in and describe first
            for title, sql in [
                ("SELECT * FROM Account LIMIT 10", "SELECT * FROM fin.Account LIMIT 10"),
                (
                    "SELECT * FROM Account WHERE Industry = 'Banking'",
                    "SELECT * FROM fin.Account WHERE Industry = 'Banking'",
                ),
                (
                    "SELECT count(*) FROM Account WHERE AnnualRevenue > 1e9",
                    "SELECT count(*) FROM fin.Account WHERE AnnualRevenue > 1000000000",
                ),
                ("SELECT * FROM Account (full scan)", "SELECT * FROM fin.Account"),
            ]:
                on = spent(emulator, lambda sql=sql: pushed.execute(sql).fetchall())
                off = spent(emulator, lambda sql=sql: local.execute(sql).fetchall())
                rows.append((title, describe(on), describe(off)))
            pushed.close()
            local.close()

        with tempfile.TemporaryDirectory() as cache:

            def first_query() -> None:
                with open_connection(cache) as con:
                    con.execute("SELECT Id FROM fin.Account LIMIT 1").fetchall()

            rows.append(("first query, new connection, empty cache", describe(spent(emulator, first_query)), "-"))
            rows.append(("first query, new connection, cache within TTL", describe(spent(emulator, first_query)), "-"))

    width = max(len(r[0]) for r in rows)
    print(f"API calls per query ({args.records} Accounts, 2000 records per page)\n")
    print(f"{'query':<{width}}  {'pushdown on':<40}  pushdown off")
    for title, on_text, off_text in rows:
        print(f"{title:<{width}}  {on_text:<40}  {off_text}")


if __name__ == "__main__":
    main()

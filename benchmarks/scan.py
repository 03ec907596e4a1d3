"""Full scan of the sandbox's Account object into Arrow, against simple-salesforce into pandas.

    python benchmarks/scan.py [--records 100000] [--repeat 5]

Both clients read every Account field from the same FinancialForce emulator in the same run, in alternating
order; the table shows medians. duckfed: `SELECT * FROM Account` through DuckDB into an Arrow table.
simple-salesforce (the most used Python client of this API): `query_all` of the same fields into a pandas
DataFrame, the way its users load a table.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable

import pandas as pd
from simple_salesforce import Salesforce

import federation
from federation.emulation.loopback import loopback_session
from federation.sandbox import Sandbox


def timed(action: Callable[[], int]) -> tuple[float, int]:
    gc.collect()
    started = time.perf_counter()
    rows = action()
    return time.perf_counter() - started, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with Sandbox(records=args.records, sources=["financialforce"]) as sandbox:
        emulator = sandbox.server("financialforce")
        con = federation.connect({"fin": sandbox.url("financialforce")})
        con.execute("SELECT Id FROM fin.Account LIMIT 1").fetchall()  # log in, describe, generate the data
        fields = [c.name for c in con.federation.sources["fin"].table("Account").info.columns]
        soql = f"SELECT {', '.join(fields)} FROM Account"
        sf = Salesforce(
            username=sandbox.properties("financialforce")["User"],
            password=sandbox.properties("financialforce")["Password"],
            security_token=sandbox.properties("financialforce")["SecurityToken"],
            session=loopback_session(emulator.url),
        )

        def duckfed_arrow() -> int:
            table = con.sql("SELECT * FROM fin.Account").arrow().read_all()
            return int(table.num_rows)

        def simple_salesforce_pandas() -> int:
            records = sf.query_all(soql)["records"]
            frame = pd.DataFrame.from_records(records).drop(columns="attributes")
            return len(frame)

        runs: dict[str, list[float]] = {"duckfed → Arrow": [], "simple-salesforce query_all → pandas": []}
        for _ in range(args.repeat):
            for name, action in zip(runs, (duckfed_arrow, simple_salesforce_pandas), strict=True):
                seconds, rows = timed(action)
                assert rows == args.records, f"{name} read {rows} rows, not {args.records}"
                runs[name].append(seconds)
        con.close()

    print(f"Full scan of {args.records:,} Accounts ({len(fields)} fields), median of {args.repeat} runs\n")
    baseline = statistics.median(runs["simple-salesforce query_all → pandas"])
    print(f"{'client':<40} {'median s':>9} {'rows/s':>12} {'speed-up':>9}")
    for name, seconds in runs.items():
        median = statistics.median(seconds)
        print(f"{name:<40} {median:>9.2f} {args.records / median:>12,.0f} {baseline / median:>8.2f}x")


if __name__ == "__main__":
    main()

"""API calls and wall time of large Salesforce scans and writes: REST query paging and sObject Collections against
Bulk API 2.0 jobs, on the sandbox's FinancialForce emulator.

    python benchmarks/salesforce_bulk.py [--sizes 10000,50000,100000] [--write-rows 2000,10000] [--latency 0.1]
                                         [--repeat 3]

Each scan is `SELECT * FROM Account` over `size` Accounts, read as an Arrow table: once with `UseBulkAPI=false`
(query pages of 2,000), once as duckfed chooses (a Bulk query job when it costs fewer calls; the first REST page
tells the size, or the row count of the last full scan). The emulator runs in the same process and renders each
results chunk whole, so a Bulk scan's time here is mostly the emulator's CSV rendering. Each write
inserts `--write-rows` Accounts with `AllOrNone=false`, by sObject Collections (200 a call) and by one ingest job.
`--latency` adds that many seconds to every API request, as a network would. Times are medians of `--repeat`
runs; calls are counted by the emulator, and both paths' rows are checked to be equal.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import federation
from federation.sandbox import Sandbox


def measure(emulator: Any, action: Callable[[], object]) -> tuple[int, float, object]:
    before = sum(Counter(emulator.calls_by_kind).values())
    started = time.perf_counter()
    result = action()
    return sum(Counter(emulator.calls_by_kind).values()) - before, time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,50000,100000")
    parser.add_argument("--write-rows", default="2000,10000")
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"latency per API request: {args.latency * 1000:.0f} ms; medians of {args.repeat} runs\n")
    print(f"{'what':<34} {'rows':>8} {'REST calls':>10} {'Bulk calls':>10} {'REST s':>8} {'Bulk s':>8} {'speed-up':>8}")
    for size in sizes:
        with Sandbox(records=size, sources=["financialforce"]) as sandbox:
            emulator: Any = sandbox.server("financialforce")
            props = {**sandbox.properties("financialforce"), "scheme": "financialforce", "BulkThreshold": "5000"}
            with federation.connect({"bulk": props, "rest": {**props, "UseBulkAPI": "false"}}) as con:
                for name in ("bulk", "rest"):
                    con.execute(f"SELECT 1 FROM {name}.Account LIMIT 1").fetchall()  # log in, describe, generate
                emulator.latency = args.latency
                figures: dict[str, list[tuple[int, float, object]]] = {"bulk": [], "rest": []}
                for _ in range(args.repeat):
                    for name in ("rest", "bulk"):
                        sql = f"SELECT * FROM {name}.Account"
                        figures[name].append(measure(emulator, lambda sql=sql: con.sql(sql).to_arrow_table()))
                bulk, rest = (figures[name][0][2].sort_by("Id") for name in ("bulk", "rest"))  # type: ignore[attr-defined]
                assert bulk.equals(rest), "Bulk and REST returned different rows"
                report("scan SELECT * FROM Account", size, figures)
                emulator.latency = 0.0
    for rows in [int(r) for r in args.write_rows.split(",")]:
        with Sandbox(records=10, sources=["financialforce"]) as sandbox:
            emulator = sandbox.server("financialforce")
            props = {**sandbox.properties("financialforce"), "scheme": "financialforce", "AllOrNone": "false"}
            with federation.connect(
                {"bulk": {**props, "BulkThreshold": "1000"}, "rest": {**props, "UseBulkAPI": "false"}}
            ) as con:
                for name in ("bulk", "rest"):
                    con.execute(f"SELECT 1 FROM {name}.Account LIMIT 1").fetchall()
                emulator.latency = args.latency
                figures = {"bulk": [], "rest": []}
                for run in range(args.repeat):
                    for name in ("rest", "bulk"):
                        sql = f"INSERT INTO {name}.Account (Name) SELECT 'w{run}{name} ' || i FROM range({rows}) t(i)"
                        figures[name].append(measure(emulator, lambda sql=sql: con.execute(sql).fetchall()))
                report("INSERT … SELECT (AllOrNone=false)", rows, figures)
    print(
        "\nBulk: a query job costs create + polls + one call per 20,000 records; an ingest job create, upload, close,"
    )
    print("polls and its results. REST: one call per 2,000 records read, per 200 records written.")


def report(what: str, rows: int, figures: dict[str, list[tuple[int, float, object]]]) -> None:
    rest_calls, bulk_calls = figures["rest"][0][0], figures["bulk"][0][0]
    rest_s = statistics.median(f[1] for f in figures["rest"])
    bulk_s = statistics.median(f[1] for f in figures["bulk"])
    print(
        f"{what:<34} {rows:>8,} {rest_calls:>10,} {bulk_calls:>10,} {rest_s:>8.2f} {bulk_s:>8.2f} "
        f"{rest_s / bulk_s:>7.2f}x"
    )


if __name__ == "__main__":
    main()

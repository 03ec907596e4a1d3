"""Full scan of the sandbox's Customer object into Arrow, against the sageintacctsdk Python SDK into pandas.

    python benchmarks/sageintacct_scan.py [--records 20000] [--repeat 3] [--latency 0.0]

Both clients read every CUSTOMER field from the same Intacct emulator in the same run, in alternating order;
the table shows medians and the API calls each made (counted by each client). The emulator runs in a process of
its own, so the time it spends rendering pages is not charged to the client that happens to be reading.
duckfed: `SELECT * FROM Customer` through DuckDB into an Arrow table, paged by RECORDNO (2,000 a call, the next
page fetched while DuckDB reads this one).
sageintacctsdk (fylein's SDK, the most used Python client of the XML API): `get_all` of the same fields — its
`count`, then `query` pages by offset — into a pandas DataFrame. The SDK reaches the emulator through a
loopback transport; nothing else of it changes.
"""

from __future__ import annotations

import argparse
import gc
import math
import multiprocessing
import statistics
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

import pandas as pd
import requests.sessions
from sageintacctsdk import SageIntacctSDK

import federation
from federation.emulation.loopback import loopback_session
from federation.sandbox import Sandbox


def timed(action: Callable[[], int]) -> tuple[float, int]:
    gc.collect()
    started = time.perf_counter()
    rows = action()
    return time.perf_counter() - started, rows


def serve(records: int, latency: float, pipe: Connection) -> None:
    """The emulator, in its own process: sends its connection properties, serves until told to stop."""
    with Sandbox(records=records, sources=["sageintacct"]) as sandbox:
        sandbox.server("sageintacct").latency = latency
        pipe.send(sandbox.properties("sageintacct"))
        pipe.recv()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the emulator adds to every call")
    args = parser.parse_args()

    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(args.records, args.latency, theirs))
    server.start()
    try:
        properties: dict[str, str] = ours.recv()
        con = federation.connect({"sage": {**properties, "scheme": "sageintacct"}})
        con.execute("SELECT Recordno FROM sage.Customer LIMIT 1").fetchall()  # log in and look the object up
        connector = con.federation.sources["sage"]
        fields = [c.api_name for c in connector.table("Customer").info.columns]
        sent = [0]

        def session() -> requests.Session:
            counted = loopback_session(properties["URL"])
            counted.hooks["response"].append(lambda response, **_: sent.__setitem__(0, sent[0] + 1))
            return counted

        requests.sessions.Session = session  # type: ignore[misc,assignment]
        sdk = SageIntacctSDK(
            sender_id=properties["SenderId"],
            sender_password=properties["SenderPassword"],
            user_id=properties["User"],
            company_id=properties["CompanyId"],
            user_password=properties["Password"],
        )

        def duckfed_arrow() -> int:
            return int(con.sql("SELECT * FROM sage.Customer").arrow().read_all().num_rows)

        def sdk_pandas() -> int:
            return len(pd.DataFrame.from_records(sdk.customers.get_all(fields=fields)))

        def calls_so_far() -> int:
            assert connector.http is not None
            return connector.http.calls + sent[0]

        runs: dict[str, list[float]] = {"duckfed → Arrow": [], "sageintacctsdk get_all → pandas": []}
        calls: dict[str, int] = {}
        for _ in range(args.repeat):
            for name, action in zip(runs, (duckfed_arrow, sdk_pandas), strict=True):
                before = calls_so_far()
                seconds, rows = timed(action)
                calls[name] = calls_so_far() - before
                assert rows == args.records, f"{name} read {rows} rows, not {args.records}"
                runs[name].append(seconds)
        con.close()
    finally:
        ours.send("stop")
        server.join(30)

    print(
        f"Full scan of {args.records:,} Customers ({len(fields)} fields), median of {args.repeat} runs, "
        f"{args.latency * 1000:g} ms added per call\n"
    )
    baseline = statistics.median(runs["sageintacctsdk get_all → pandas"])
    print(f"{'client':<36} {'median s':>9} {'rows/s':>12} {'calls':>6} {'speed-up':>9}")
    for name, times in runs.items():
        median = statistics.median(times)
        print(f"{name:<36} {median:>9.2f} {args.records / median:>12,.0f} {calls[name]:>6} {baseline / median:>8.2f}x")
    print(f"\nduckfed's calls for a scan of N records: ceil(N / 2000) = {math.ceil(args.records / 2000)} (login once)")


if __name__ == "__main__":
    main()

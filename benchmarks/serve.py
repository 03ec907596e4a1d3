"""A full scan of the sandbox's Account object through `duckfed serve` and the DuckDB CLI, against the same scan
in-process, with the API calls each spent.

    python benchmarks/serve.py [--records 20000] [--repeat 5]

Both read every Account field from the same FinancialForce emulator in the same run, in alternating order; the
table shows medians. The emulator runs in a process of its own (as in `paging.py`), so the time it spends rendering
pages is not charged to either client. Through the server: the DuckDB CLI 1.5.5 with its postgres extension runs
`CREATE TABLE copy AS SELECT * FROM crm.fin.Account` (its `.timer` measures the statement alone, not the CLI's
start or ATTACH; the catalog is loaded by an earlier statement), so every value crosses the wire in binary COPY
format. In-process: `SELECT * FROM fin.Account` through DuckDB into an Arrow table. The goal is at most 1.5 times
the in-process time, and the same API calls.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from paging import Emulator  # benchmarks/paging.py: the emulator in a process of its own

import federation
from federation.serve import Limits, Security, Server

EXTENSION = Path(sys.prefix) / "duckdb-extensions/duckdb_extension_postgres/extensions/v1.5.5/postgres.duckdb_extension"
DUCKDB_CLI = Path(sys.prefix) / "bin" / "duckdb"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not EXTENSION.exists():
        sys.exit("install the DuckDB CLI's postgres extension first (the README's test command)")
    workdir = Path(tempfile.mkdtemp(prefix="duckfed-serve-bench-"))
    extension = workdir / "postgres_scanner.duckdb_extension"
    shutil.copyfile(EXTENSION, extension)

    emulator = Emulator("financialforce", args.records)

    def api_calls() -> int:
        by_kind, _ = emulator.command("counts")
        return sum(by_kind.values())

    try:
        properties = {**emulator.properties, "scheme": "financialforce"}
        served = federation.connect({"fin": properties})
        local = federation.connect({"fin": properties})
        security = Security.configure(
            "127.0.0.1", user="duckfed", password_file=None, trust=True, tls_cert=None, tls_key=None
        )
        server = Server(served, security, Limits(max_connections=4))
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        _, port = asyncio.run_coroutine_threadsafe(server.start("127.0.0.1", 0), loop).result(30)
        attach = f"ATTACH 'host=127.0.0.1 port={port} dbname=duckfed user=duckfed' AS crm (TYPE postgres, READ_ONLY)"
        script = (
            f"LOAD '{extension}';\n{attach};\nSELECT count(*) FROM crm.fin.Account WHERE Id = 'none';\n"
            ".timer on\nCREATE TABLE copy AS SELECT * FROM crm.fin.Account;\n.timer off\n"
            "SELECT count(*) FROM copy;\n"
        )
        local.execute("SELECT Id FROM fin.Account LIMIT 1").fetchall()  # log in, describe, generate the data

        def through_server() -> tuple[float, int, int]:
            before = api_calls()
            done = subprocess.run([str(DUCKDB_CLI), "-csv"], input=script, capture_output=True, text=True, check=True)
            seconds = float(re.findall(r"Run Time \(s\): real ([\d.]+)", done.stdout)[0])
            rows = int(done.stdout.strip().splitlines()[-1])
            # The first statement (catalog, a filtered lookup) is not part of the scan: count its calls apart.
            return seconds, rows, api_calls() - before

        def in_process() -> tuple[float, int, int]:
            before = api_calls()
            started = time.perf_counter()
            table = local.sql("SELECT * FROM fin.Account").to_arrow_table()
            return time.perf_counter() - started, table.num_rows, api_calls() - before

        lookup = f"LOAD '{extension}';\n{attach};\nSELECT count(*) FROM crm.fin.Account WHERE Id = 'none';\n"
        lookup_calls = 0
        for _ in range(2):  # the first loads the catalog (describes); the second costs what every run's does
            before = api_calls()
            subprocess.run([str(DUCKDB_CLI), "-csv"], input=lookup, capture_output=True, text=True, check=True)
            lookup_calls = api_calls() - before

        runs: dict[str, list[tuple[float, int]]] = {"DuckDB CLI → duckfed serve": [], "in-process → Arrow": []}
        for _ in range(args.repeat):
            for name, action in zip(runs, (through_server, in_process), strict=True):
                seconds, rows, calls = action()
                assert rows == args.records, f"{name} read {rows} rows, not {args.records}"
                if name.startswith("DuckDB"):
                    calls -= lookup_calls
                runs[name].append((seconds, calls))
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        served.close()
        local.close()
    finally:
        emulator.stop()
    shutil.rmtree(workdir, ignore_errors=True)

    print(f"Full scan of {args.records:,} Accounts (every field), median of {args.repeat} runs\n")
    baseline = statistics.median(s for s, _ in runs["in-process → Arrow"])
    print(f"{'client':<30} {'median s':>9} {'rows/s':>12} {'vs in-process':>14} {'API calls':>10}")
    for name, results in runs.items():
        median = statistics.median(s for s, _ in results)
        calls = statistics.median(c for _, c in results)
        print(f"{name:<30} {median:>9.2f} {args.records / median:>12,.0f} {median / baseline:>13.2f}x {calls:>10.0f}")


if __name__ == "__main__":
    main()

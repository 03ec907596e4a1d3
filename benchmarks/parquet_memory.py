"""Peak memory of exporting a whole table to Parquet, at two table sizes in one run: flat means streaming.

    python benchmarks/parquet_memory.py [--records 100000 1000000] [--source financialforce]

For each size the sandbox emulator runs in a process of its own (its records are not the client's memory); each
export then runs in a fresh client process, whose peak resident set size the kernel reports when it ends
(`os.wait4`): `COPY (SELECT * FROM src.Account) TO 'x.parquet'` through `federation.connect`, and `duckfed query
--format parquet`; for Salesforce both as it reads a large table by default (Bulk API 2.0 query jobs) and through
REST query pages (`UseBulkAPI=false`). The first row is a client that only imports duckfed and connects, the floor
under the others. The table shows each peak and time, and the ratio of the largest size's peak to the smallest's
(flat: close to 1).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

#: The table each source exports: its largest generated object.
TABLES = {"financialforce": "Account", "template": "contacts"}

_CONNECT = "import federation, sys\ncon = federation.connect({'src': sys.argv[1]})\n"
_IMPORT = _CONNECT + "con.execute('SELECT 1').fetchall()\n"
_COPY = _CONNECT + "con.execute(f\"COPY (SELECT * FROM src.{sys.argv[2]}) TO '{sys.argv[3]}'\")\n"
#: Salesforce reads a large table through Bulk API 2.0 query jobs unless told not to: both ways are measured.
VARIANTS = {"financialforce": {"": "", " (REST query pages)": "&UseBulkAPI=false"}, "template": {"": ""}}


def serve(source: str, records: int) -> None:
    """Run the emulator with its data generated, print the source URL, and serve until stdin closes."""
    from federation.sandbox import Sandbox

    with Sandbox(records=records, sources=[source]) as sandbox:
        server = sandbox.server(source)
        store = getattr(server, "store", None)
        if store is not None and hasattr(store, "records"):
            store.records(TABLES[source])  # generated now, not while the first client waits
        print(sandbox.url(source), flush=True)
        sys.stdin.read()


def peak(argv: list[str]) -> tuple[float, float]:
    """Run `argv` to the end; (its peak RSS in MB, seconds)."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed with status {process.returncode}")
    return usage.ru_maxrss / 1024, time.perf_counter() - started  # Linux reports kilobytes


def measure(source: str, records: int, workdir: Path) -> dict[str, tuple[float, float]]:
    """Each client's (peak MB, seconds) against a `records`-record emulator."""
    table = TABLES[source]
    emulator = subprocess.Popen(
        [sys.executable, __file__, "--serve", source, str(records)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert emulator.stdout is not None
        url = emulator.stdout.readline().decode().strip()
        out = workdir / f"{records}.parquet"
        results = {"import + connect": peak([sys.executable, "-c", _IMPORT, url])}
        for label, extra in VARIANTS[source].items():
            results[f"COPY … TO 'x.parquet'{label}"] = peak([sys.executable, "-c", _COPY, url + extra, table, str(out)])
            assert pq.ParquetFile(out).metadata.num_rows == records, "COPY wrote a partial file"
            duckfed = str(Path(sys.executable).parent / "duckfed")
            argv = [duckfed, "query", f"SELECT * FROM src.{table}", "--source", f"src={url + extra}"]
            results[f"duckfed query --format parquet{label}"] = peak(
                [*argv, "--format", "parquet", "--output", str(out)]
            )
            assert pq.ParquetFile(out).metadata.num_rows == records, "duckfed query wrote a partial file"
        return results
    finally:
        assert emulator.stdin is not None
        emulator.stdin.close()
        emulator.wait(timeout=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--source", choices=sorted(TABLES), default="financialforce")
    parser.add_argument("--serve", nargs=2, metavar=("SOURCE", "RECORDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return

    sizes = sorted(args.records)
    with tempfile.TemporaryDirectory() as workdir:
        runs = {n: measure(args.source, n, Path(workdir)) for n in sizes}
    print(f"Peak client RSS exporting {args.source}.{TABLES[args.source]} to Parquet (emulator in its own process)\n")
    header = "".join(f"{f'{n:,} rows':>22}" for n in sizes)
    print(f"{'client':<54}{header}{'ratio':>8}")
    for name in runs[sizes[0]]:
        cells = "".join(f"{f'{runs[n][name][0]:,.0f} MB {runs[n][name][1]:>5.1f} s':>22}" for n in sizes)
        ratio = runs[sizes[-1]][name][0] / runs[sizes[0]][name][0]
        print(f"{name:<54}{cells}{ratio:>7.2f}x")


if __name__ == "__main__":
    main()

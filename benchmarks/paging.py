"""Scan time against the download-only floor, and parallel paging against the latency bound, for every connector.

    python benchmarks/paging.py [--records 100000] [--repeat 3] [--sources financialforce,sageintacct,...]

Each source's emulator runs in a process of its own (so the time it spends rendering pages is not charged to the
client). Two tables, medians of `--repeat` runs:

1. Full scan. `SELECT * FROM <main table>` through DuckDB into Arrow, against the download-only floor: the very
   HTTP requests that scan sent (recorded from the connection's own HTTP client), sent again by the same client,
   with as many at once as the scan had in flight, and each body read but not decoded. Rate limits are lifted on
   both sides for this table (the RateLimit property, the emulator's quotas): it measures paging, not quotas.
   The emulator's process still runs on this machine's cores, so the scan's CPU is shown too: this process's
   (decoding, DuckDB) and the emulator's (rendering), and the least time the cores can do both in (their sum over
   the cores). Where that CPU bound is above the floor, the last column is the scan's ratio to it.
2. Latency. The emulator adds 150 ms to every call; the table has about 10 pages (PageSize chosen per source).
   The bound is ceil(P / k) x 150 ms, with P the pages the scan requested (counted by the emulator) and k the
   table's declared `max_concurrency`. A scan asks for later pages only once the first has shown there are more
   (so that a LIMIT costs one call), so its own least time is (1 + ceil((P - 1) / k)) x 150 ms, shown too.
   Act-On is also run under its published 5 calls a second, whose bound is what that limit allows (5 calls, then
   the next 5 a second after the first answered, ...).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import gc
import math
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from typing import Any

import httpx

import federation
from federation.connection import Connection
from federation.sandbox import Sandbox

LATENCY = 0.15
#: The cores the scan and its emulator share.
CORES = len(os.sched_getaffinity(0))
UNTHROTTLED = {"RateLimit": "100000/second"}


@dataclass(frozen=True)
class Case:
    """A source's main table, and the page size (and records) that make about 10 pages of it."""

    scheme: str
    table: str
    scan_kinds: tuple[str, ...]
    small_page: dict[str, str]
    small_records: int
    #: Properties every connection of the case takes.
    extra: tuple[tuple[str, str], ...] = ()


CASES = {
    # REST query pages: a scan this large would otherwise go through a Bulk API 2.0 job, which pages differently.
    "financialforce": Case(
        "financialforce", "Account", ("query", "queryMore"), {"PageSize": "200"}, 2000, (("UseBulkAPI", "false"),)
    ),
    # 990 records: the 890 after a first page of 100 fit 9 pages of 99 new records (one overlaps) as of 100.
    "sageintacct": Case("sageintacct", "Customer", ("query",), {"PageSize": "100"}, 990),
    # Accounts is read through the bulk endpoint, 1,000 records a call.
    "exactonline": Case("exactonline", "Accounts", ("list", "bulk"), {}, 9500),
    "acton": Case("acton", "List_Newsletter", ("records",), {"PageSize": "100"}, 1000),
    "template": Case("template", "contacts", ("records",), {"PageSize": "100"}, 1000),
}


def serve(scheme: str, records: int, pipe: Pipe) -> None:
    """The emulator in its own process: sends its properties, then answers commands until told to stop."""
    with Sandbox(records=records, sources=[scheme]) as sandbox:
        server = sandbox.server(scheme)
        pipe.send(sandbox.properties(scheme))
        while True:
            command, *args = pipe.recv()
            if command == "stop":
                return
            if command == "latency":
                server.latency = args[0]  # type: ignore[attr-defined]
            elif command == "quotas":
                server.set_quotas([])
            elif command == "reset":
                server.reset_counts()
            elif command == "counts":
                pipe.send((dict(server.calls_by_kind), server.max_in_flight))  # type: ignore[attr-defined]
            elif command == "cpu":
                pipe.send(time.process_time())


class Emulator:
    """The client's side of an emulator process."""

    def __init__(self, scheme: str, records: int) -> None:
        self.pipe, theirs = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("spawn").Process(target=serve, args=(scheme, records, theirs))
        self.process.start()
        self.properties: dict[str, str] = self.pipe.recv()

    def command(self, *command: object) -> Any:
        self.pipe.send(command)
        return self.pipe.recv() if command[0] in ("counts", "cpu") else None

    def stop(self) -> None:
        self.pipe.send(("stop",))
        self.process.join(timeout=30)


def timed(action: Callable[[], object]) -> float:
    gc.collect()
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def connect(case: Case, properties: dict[str, str], **extra: str) -> Connection:
    con = federation.connect({"s": {**properties, **dict(case.extra), **extra, "scheme": case.scheme}})
    con.execute(f'SELECT * FROM s."{case.table}" LIMIT 1').fetchall()  # log in, describe
    return con


def scan(con: Connection, case: Case) -> int:
    return int(con.sql(f'SELECT * FROM s."{case.table}"').arrow().read_all().num_rows)


@dataclass(frozen=True)
class FullScan:
    """Medians of a case's full scans: seconds of the scan and of its floor, and the CPU seconds the scan took in
    this process (DuckDB's threads included) and in the emulator's; with the rows and the calls in flight at most."""

    scan: float
    floor: float
    client_cpu: float
    emulator_cpu: float
    rows: int
    in_flight: int

    @property
    def cpu_bound(self) -> float:
        """The least time this machine's cores can do the scan's work in, client and emulator together."""
        return (self.client_cpu + self.emulator_cpu) / CORES


def full_scan(case: Case, records: int, repeat: int) -> FullScan:
    emulator = Emulator(case.scheme, records)
    try:
        emulator.command("quotas")
        con = connect(case, emulator.properties, **UNTHROTTLED)
        http = con.federation.sources["s"].http
        sent: list[httpx.Request] = []
        client = http._client  # the connection's own httpx client: record what a scan sends
        client.event_hooks = {"request": [sent.append], "response": []}
        emulator.command("reset")
        rows = scan(con, case)
        client.event_hooks = {"request": [], "response": []}
        _, in_flight = emulator.command("counts")
        requests = list(sent)

        def floor() -> None:
            def download(request: httpx.Request) -> int:
                return len(client.send(request).content)

            if in_flight <= 1:
                for request in requests:
                    download(request)
            else:
                with concurrent.futures.ThreadPoolExecutor(in_flight) as pool:
                    list(pool.map(download, requests))

        scans, floors, client_cpu, emulator_cpu = [], [], [], []
        for _ in range(repeat):
            ours, theirs = time.process_time(), emulator.command("cpu")
            scans.append(timed(lambda: scan(con, case)))
            client_cpu.append(time.process_time() - ours)
            emulator_cpu.append(emulator.command("cpu") - theirs)
            floors.append(timed(floor))
        con.close()
        median = statistics.median
        return FullScan(median(scans), median(floors), median(client_cpu), median(emulator_cpu), rows, int(in_flight))
    finally:
        emulator.stop()


def rate_bound(pages: int, calls: int, window: float) -> float:
    """The least time `pages` calls of LATENCY take when at most `calls` may count in any sliding `window` (a call
    counting from when it is sent until a window after it answered)."""
    groups = math.ceil(pages / calls)
    return (groups - 1) * (window + LATENCY) + LATENCY


def latency(case: Case, repeat: int, *, vendor_limits: bool = False) -> tuple[float, int, int, float, float]:
    """Median seconds of a scan of about 10 pages at LATENCY a call, the pages, k, the bound, and the least time of
    a scan that reads the first page first."""
    emulator = Emulator(case.scheme, case.small_records)
    try:
        if not vendor_limits:
            emulator.command("quotas")
        extra = {} if vendor_limits else UNTHROTTLED
        con = connect(case, emulator.properties, **case.small_page, **extra)
        k = con.federation.sources["s"].table(case.table).info.max_concurrency
        emulator.command("latency", LATENCY)
        emulator.command("reset")
        seconds = []
        for _ in range(repeat):
            if vendor_limits:
                time.sleep(1.1)  # the calls before this scan no longer count in the rate limit's window
            seconds.append(timed(lambda: scan(con, case)))
        counts, _ = emulator.command("counts")
        pages = sum(counts.get(kind, 0) for kind in case.scan_kinds) // repeat
        con.close()
        bound = math.ceil(pages / k) * LATENCY
        first_first = (1 + math.ceil((pages - 1) / k)) * LATENCY
        if vendor_limits and case.scheme == "acton":
            bound = max(bound, rate_bound(pages, 5, 1.0))
            first_first = max(first_first, rate_bound(pages, 5, 1.0))
        return statistics.median(seconds), pages, k, bound, first_first
    finally:
        emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sources", default=",".join(CASES))
    args = parser.parse_args()
    cases = [CASES[name] for name in args.sources.split(",")]

    print(f"Full scan of each main table ({args.records:,} records generated), median of {args.repeat} runs\n")
    print(
        f"{'source':<16} {'table':<16} {'rows':>8} {'in flight':>9} {'scan s':>8} {'floor s':>8} {'ratio':>6} "
        f"{'client CPU s':>12} {'emulator CPU s':>14} {'CPU bound s':>11} {'ratio':>6}"
    )
    for case in cases:
        found = full_scan(case, args.records, args.repeat)
        bound = max(found.floor, found.cpu_bound)
        print(
            f"{case.scheme:<16} {case.table:<16} {found.rows:>8,} {found.in_flight:>9} {found.scan:>8.2f} "
            f"{found.floor:>8.2f} {found.scan / found.floor:>5.2f}x {found.client_cpu:>12.2f} "
            f"{found.emulator_cpu:>14.2f} {found.cpu_bound:>11.2f} {found.scan / bound:>5.2f}x"
        )

    print(f"\nAbout 10 pages at {LATENCY * 1000:.0f} ms a call: time / bound, median of {args.repeat} runs\n")
    print(
        f"{'source':<28} {'pages':>5} {'k':>3} {'bound s':>8} {'scan s':>8} {'ratio':>6} "
        f"{'first-page-first s':>19} {'ratio':>6}"
    )
    runs = [(case, False) for case in cases] + [(case, True) for case in cases if case.scheme == "acton"]
    for case, vendor in runs:
        seconds, pages, k, bound, first_first = latency(case, args.repeat, vendor_limits=vendor)
        name = case.scheme + (" (5 calls/s)" if vendor else "")
        print(
            f"{name:<28} {pages:>5} {k:>3} {bound:>8.2f} {seconds:>8.2f} {seconds / bound:>5.2f}x "
            f"{first_first:>19.2f} {seconds / first_first:>5.2f}x"
        )


if __name__ == "__main__":
    main()

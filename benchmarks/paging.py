"""Scan time against the download-only floor, and parallel paging against the latency bound, for every connector.

    python benchmarks/paging.py [--records 100000] [--repeat 3] [--sources financialforce,sageintacct,...]

Each source's emulator runs in a process of its own (so the time it spends rendering pages is not charged to the
client). Two tables, medians of `--repeat` runs:

1. Full scan. `SELECT * FROM <main table>` through DuckDB into Arrow, against the download-only floor: the very
   HTTP requests that scan sent (recorded from the connection's own HTTP client), sent again by the same client,
   with as many at once as the scan had in flight, and each body read but not decoded. Rate limits are lifted on
   both sides for this table (the RateLimit property, the emulator's quotas): it measures paging, not quotas.
   The emulator's process runs on this machine's cores, which the scan's own work (decoding, DuckDB) shares: the
   floor is measured on cores the client leaves idle, which no client that decodes its pages can have. So two
   bounds are shown beside it, each with the scan's ratio to it:
   - the loaded floor: the same downloads while other processes put on the machine the CPU load the scan adds to a
     mere download (its client CPU less the floor's, per second of the scan, spread evenly in 10 ms slices of
     Arrow JSON decoding): the download time a client that overlapped all its work perfectly would see here;
   - the CPU bound: the scan's CPU in this process and the emulator's over the cores, the least time the cores
     can do both in (the ratio is to the larger of it and the floor).
2. Latency. The emulator adds 150 ms to every call; the table has about 10 pages (PageSize chosen per source).
   The bound is ceil(P / k) x 150 ms, with P the pages the scan requested (counted by the emulator) and k the
   table's declared `max_concurrency`. A scan asks for later pages only once the first has shown there are more
   (so that a LIMIT costs one call), so its own least time is (1 + ceil((P - 1) / k)) x 150 ms, shown too.
   Act-On is also run under its published 5 calls a second, whose bound is what that limit allows (5 calls, then
   the next 5 a second after the first answered, ...). The bound counts latency only; the emulator's time to
   render each page comes on top (a thousand-record page takes it tens of milliseconds), so the scan is also set
   against its floor at this latency: its requests replayed as in table 1.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import gc
import math
import multiprocessing
import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from typing import Any

import httpx
import orjson
import pyarrow as pa
import pyarrow.json as pa_json

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
                server.latency = args[0]
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


def burn(duty: float, ready: Pipe, running: threading.Event, stop: threading.Event) -> None:
    """A process that, while `running` is set, spends `duty` of every 10 ms slice of one core decoding JSON pages
    with Arrow (the kind of work a scan adds to a download), until `stop` is set."""
    records = [
        {"Id": f"001{i:015d}", "Name": f"Account {i}", "Amount": i * 1.25, "Active": i % 2 == 0} for i in range(100)
    ]
    body = orjson.dumps({"records": records})  # a fifth of a millisecond to decode: fine-grained slices
    options = pa_json.ReadOptions(block_size=len(body) + 1, use_threads=False)
    slice_ = 0.01
    ready.send(True)
    while not stop.is_set():
        if not running.wait(0.05):
            continue
        started, cpu = time.perf_counter(), time.process_time()
        while time.process_time() - cpu < duty * slice_:
            pa_json.read_json(pa.BufferReader(body), read_options=options)
        rest = slice_ - (time.perf_counter() - started)
        if rest > 0:
            time.sleep(rest)


class Load:
    """Processes that put `cores` of CPU load on the machine while in use (`with load:`), spread over as many
    processes as it takes to keep each under one core."""

    def __init__(self, cores: float) -> None:
        context = multiprocessing.get_context("spawn")
        self.running, self.stop = context.Event(), context.Event()
        count = math.ceil(cores) if cores > 0 else 0
        ready, theirs = context.Pipe()
        self.processes = [
            context.Process(target=burn, args=(cores / count, theirs, self.running, self.stop), daemon=True)
            for _ in range(count)
        ]
        for process in self.processes:
            process.start()
        for _ in self.processes:
            ready.recv()  # started and idle, so that their start-up doesn't load the first measurement

    def __enter__(self) -> Load:
        self.running.set()
        time.sleep(0.05)  # every process is in its slices before the measurement starts
        return self

    def __exit__(self, *_: object) -> None:
        self.running.clear()

    def close(self) -> None:
        self.stop.set()
        for process in self.processes:
            process.join(timeout=10)


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
    """Medians of a case's full scans: seconds of the scan, of its floor and of its loaded floor; the CPU seconds
    the scan took in this process (DuckDB's threads included) and in the emulator's, and the cores of load the scan
    adds to a download; with the rows and the calls in flight at most."""

    scan: float
    floor: float
    loaded_floor: float
    client_cpu: float
    emulator_cpu: float
    added_load: float
    rows: int
    in_flight: int

    @property
    def cpu_bound(self) -> float:
        """The least time this machine's cores can do the scan's work in, client and emulator together."""
        return (self.client_cpu + self.emulator_cpu) / CORES


class Replay:
    """The HTTP requests one scan sent (recorded from the connection's own HTTP client), to send again with that
    client, as many at once as the scan had in flight, each body read but not decoded: the download-only floor."""

    def __init__(self, con: Connection, case: Case, emulator: Emulator) -> None:
        http = con.federation.sources["s"].http
        sent: list[httpx.Request] = []
        self.client = http._client  # type: ignore[union-attr]
        self.client.event_hooks = {"request": [sent.append], "response": []}
        emulator.command("reset")
        self.rows = scan(con, case)
        self.client.event_hooks = {"request": [], "response": []}
        _, self.in_flight = emulator.command("counts")
        self.requests = list(sent)

    def download(self) -> None:
        def one(request: httpx.Request) -> int:
            return len(self.client.send(request).content)

        if self.in_flight <= 1:
            for request in self.requests:
                one(request)
        else:
            with concurrent.futures.ThreadPoolExecutor(self.in_flight) as pool:
                list(pool.map(one, self.requests))


def full_scan(case: Case, records: int, repeat: int) -> FullScan:
    emulator = Emulator(case.scheme, records)
    try:
        emulator.command("quotas")
        con = connect(case, emulator.properties, **UNTHROTTLED)
        replay = Replay(con, case, emulator)
        floor = replay.download
        scans, floors, client_cpu, emulator_cpu, floor_cpu = [], [], [], [], []
        for _ in range(repeat):
            ours, theirs = time.process_time(), emulator.command("cpu")
            scans.append(timed(lambda: scan(con, case)))
            client_cpu.append(time.process_time() - ours)
            emulator_cpu.append(emulator.command("cpu") - theirs)
            ours = time.process_time()
            floors.append(timed(floor))
            floor_cpu.append(time.process_time() - ours)
        median = statistics.median
        added = max(0.0, median(client_cpu) - median(floor_cpu)) / median(scans)
        load = Load(added)
        try:
            loaded = []
            for _ in range(repeat):
                with load:
                    loaded.append(timed(floor))
        finally:
            load.close()
        con.close()
        return FullScan(
            median(scans),
            median(floors),
            median(loaded),
            median(client_cpu),
            median(emulator_cpu),
            added,
            replay.rows,
            int(replay.in_flight),
        )
    finally:
        emulator.stop()


def rate_bound(pages: int, calls: int, window: float) -> float:
    """The least time `pages` calls of LATENCY take when at most `calls` may count in any sliding `window` (a call
    counting from when it is sent until a window after it answered)."""
    groups = math.ceil(pages / calls)
    return (groups - 1) * (window + LATENCY) + LATENCY


@dataclass(frozen=True)
class Latency:
    """Medians of a case's scans of about 10 pages at LATENCY a call: seconds of the scan; the pages and k; the
    bound and the least time of a scan that reads the first page first; and the replayed floor (None under the
    vendor's rate limits, which a replay doesn't wait for)."""

    scan: float
    pages: int
    k: int
    bound: float
    first_first: float
    floor: float | None


def latency(case: Case, repeat: int, *, vendor_limits: bool = False) -> Latency:
    """A case's scans of about 10 pages at LATENCY a call (`Latency`)."""
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
        floor = None
        if not vendor_limits:
            replay = Replay(con, case, emulator)
            floor = statistics.median(timed(replay.download) for _ in range(repeat))
        con.close()
        bound = math.ceil(pages / k) * LATENCY
        first_first = (1 + math.ceil((pages - 1) / k)) * LATENCY
        if vendor_limits and case.scheme == "acton":
            bound = max(bound, rate_bound(pages, 5, 1.0))
            first_first = max(first_first, rate_bound(pages, 5, 1.0))
        return Latency(statistics.median(seconds), pages, k, bound, first_first, floor)
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
        f"{'source':<16} {'table':<16} {'rows':>8} {'in flight':>9} {'scan s':>7} {'floor s':>7} {'ratio':>6} "
        f"{'added load':>10} {'loaded floor s':>14} {'ratio':>6} "
        f"{'client CPU s':>12} {'emulator CPU s':>14} {'CPU bound s':>11} {'ratio':>6}"
    )
    for case in cases:
        found = full_scan(case, args.records, args.repeat)
        bound = max(found.floor, found.cpu_bound)
        print(
            f"{case.scheme:<16} {case.table:<16} {found.rows:>8,} {found.in_flight:>9} {found.scan:>7.2f} "
            f"{found.floor:>7.2f} {found.scan / found.floor:>5.2f}x {found.added_load:>10.2f} "
            f"{found.loaded_floor:>14.2f} {found.scan / found.loaded_floor:>5.2f}x {found.client_cpu:>12.2f} "
            f"{found.emulator_cpu:>14.2f} {found.cpu_bound:>11.2f} {found.scan / bound:>5.2f}x"
        )

    print(f"\nAbout 10 pages at {LATENCY * 1000:.0f} ms a call: time / bound, median of {args.repeat} runs\n")
    print(
        f"{'source':<28} {'pages':>5} {'k':>3} {'bound s':>8} {'scan s':>8} {'ratio':>6} "
        f"{'first-page-first s':>19} {'ratio':>6} {'floor s':>8} {'ratio':>6}"
    )
    runs = [(case, False) for case in cases] + [(case, True) for case in cases if case.scheme == "acton"]
    for case, vendor in runs:
        run = latency(case, args.repeat, vendor_limits=vendor)
        name = case.scheme + (" (5 calls/s)" if vendor else "")
        floor = "" if run.floor is None else f"{run.floor:>8.2f} {run.scan / run.floor:>5.2f}x"
        print(
            f"{name:<28} {run.pages:>5} {run.k:>3} {run.bound:>8.2f} {run.scan:>8.2f} "
            f"{run.scan / run.bound:>5.2f}x {run.first_first:>19.2f} {run.scan / run.first_first:>5.2f}x {floor}"
        )


if __name__ == "__main__":
    main()

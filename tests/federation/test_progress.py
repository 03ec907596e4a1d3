"""Progress bars: a scan, a sync and a write that run longer than a second show one on a terminal, with the rows
(out of the API's total), pages, calls and rate-limit waits, and nothing shows when stderr is no terminal, with
`Progress=false`, or with DUCKFED_PROGRESS=0.

Each case runs a real program in a child process whose stderr is a pseudo-terminal (or a pipe), against the
sandbox slowed down to 0.12 s a call, and reads what it drew."""

from __future__ import annotations

import fcntl
import os
import re
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import federation
from federation.sandbox import Sandbox
from federation.table import ScanProgress, ScanRequest

RECORDS = 2000
PAGE = 200
LATENCY = 0.12
SWITCH = "DUCKFED_PROGRESS"

CHILD = r"""
import sys

import federation
from federation.sync import sync

url, phases = sys.argv[1], sys.argv[2].split(",")
QUERY = "SELECT length(string_agg(Name, ',')) FROM fin.Account"  # nothing the API computes: a scan of every page


def phase(name):
    print(f"=== {name} ===", file=sys.stderr, flush=True)


for name in phases:
    phase(name)
    if name == "scan":
        # 4 calls a second: ten pages must wait for the rate limit.
        with federation.connect({"fin": url + "&RateLimit=4/second"}) as con:
            con.sql(QUERY).fetchall()
    elif name == "off":
        with federation.connect({"fin": url + "&RateLimit=4/second&Progress=false"}) as con:
            con.sql(QUERY).fetchall()
    elif name == "sync":
        with federation.connect({"fin": url}) as con:
            sync(con, "copy.duckdb", ["fin.Account"], say=lambda text: print(text, file=sys.stderr))
    elif name == "write":
        with federation.connect({"fin": url}) as con:
            con.execute("UPDATE fin.Account SET Description = 'seen' WHERE Description IS DISTINCT FROM 'seen'")
phase("end")
"""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(records=RECORDS, sources=["financialforce"]) as running:
        running.server("financialforce").latency = LATENCY
        yield running


@dataclass
class Child:
    """The child program, and the terminal its stderr is (None: a pipe)."""

    process: subprocess.Popen[bytes]
    terminal: int | None

    def drawn(self) -> dict[str, str]:
        """What it wrote to stderr, by phase, once it ended."""
        if self.terminal is None:
            assert self.process.stderr is not None
            text = self.process.stderr.read()
        else:
            chunks = []
            while True:
                try:
                    data = os.read(self.terminal, 65536)
                except OSError:  # the child closed its end (Linux reports EIO)
                    break
                if not data:
                    break
                chunks.append(data)
            os.close(self.terminal)
            text = b"".join(chunks)
        assert self.process.wait(timeout=120) == 0, text.decode(errors="replace")
        parts = re.split(r"=== (\w+) ===\r?\n", text.decode())
        return dict(zip(parts[1::2], parts[2::2], strict=True))


def start(sandbox: Sandbox, tmp_path: Path, phases: str, *, terminal: bool = True, off: bool = False) -> Child:
    """The child program running `phases`, its stderr a 150-column pseudo-terminal or a pipe; `off`: with
    DUCKFED_PROGRESS=0."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    argv = [sys.executable, str(script), sandbox.url("financialforce") + f"&PageSize={PAGE}", phases]
    env = {k: v for k, v in os.environ.items() if k != SWITCH} | ({SWITCH: "0"} if off else {})
    if not terminal:
        return Child(subprocess.Popen(argv, cwd=tmp_path, env=env, stderr=subprocess.PIPE), None)
    parent, child = os.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 150, 0, 0))
    process = subprocess.Popen(argv, cwd=tmp_path, env=env, stdin=child, stderr=child)
    os.close(child)
    return Child(process, parent)


def last_drawing(text: str) -> str:
    """The bar as last drawn (each drawing starts with a carriage return; a blank one erases it at the end)."""
    return [d.strip() for d in text.split("\r") if " rows " in d][-1]


def accounts(sandbox: Sandbox) -> int:
    return len(sandbox.server("financialforce").store.records("Account"))  # type: ignore[attr-defined]


def test_a_scan_shows_rows_of_the_apis_total_pages_calls_and_waits(sandbox: Sandbox, tmp_path: Path) -> None:
    server = sandbox.server("financialforce")
    total = accounts(sandbox)
    server.reset_counts()
    scan = start(sandbox, tmp_path, "scan").drawn()["scan"]
    pages = -(-total // PAGE)
    queried = server.calls_by_kind["query"] + server.calls_by_kind["queryMore"]
    assert queried == pages
    # Drawn while it ran, and as it ended: every record of the API's totalSize, each page, each call it made.
    assert re.search(rf"\rAccount:\s+\d+%\|[^\r]*\| \d+/{total} rows \[", scan), scan
    final = last_drawing(scan)
    assert f"| {total}/{total} rows [" in final, final
    assert f"{pages} pages, {queried} calls" in final, final
    waited = re.search(r", ([\d.]+) s waiting for the rate limit\]", final)
    assert waited is not None and float(waited.group(1)) >= 0.5, final
    # Ten calls at four a second take over two seconds: the bar's clock starts with the statement, not with the bar.
    assert re.search(r" rows \[00:0[2-9]<", final), final


def test_a_sync_and_a_write_show_theirs_and_progress_false_shows_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    total = accounts(sandbox)
    shown = start(sandbox, tmp_path, "off,sync,write").drawn()
    assert shown["off"] == ""
    final = last_drawing(shown["sync"])
    assert final.startswith("sync fin.Account: 100%|") and f" {total}/{total} rows [" in final, final
    # The sync's report is printed on a line of its own, the bar cleared from it first.
    assert re.search(rf"\r +\rfin\.Account: full copy \(first run\): {total:,} rows, ", shown["sync"]), shown["sync"]
    final = last_drawing(shown["write"])
    assert final.startswith("UPDATE fin.Account: ") and f"{total:,} written" in final, final
    assert f" {total}/{total} rows [" in final, final  # the scan that found the records to update


def test_nothing_is_drawn_when_stderr_is_no_terminal_or_the_environment_says_so(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    (tmp_path / "piped").mkdir()
    (tmp_path / "off").mkdir()
    # The same scan that draws a bar on a terminal (the first test) takes over two seconds here too.
    piped = start(sandbox, tmp_path / "piped", "scan", terminal=False)
    off = start(sandbox, tmp_path / "off", "scan", off=True)
    assert piped.drawn() == {"scan": "", "end": ""}
    assert off.drawn() == {"scan": "", "end": ""}


class Totals(ScanProgress):
    """Keeps what a scan reports, and how many records had come when it first reported."""

    def __init__(self) -> None:
        self.parts: dict[object, int] = {}
        self.read = 0
        self.first_at: int | None = None

    def total(self, rows: int, part: object = None) -> None:
        self.parts[part] = rows
        if self.first_at is None:
            self.first_at = self.read


@pytest.mark.parametrize("scheme", ["financialforce", "sageintacct", "acton"])
def test_each_api_that_counts_its_records_reports_the_total_with_its_first_page(scheme: str) -> None:
    # Salesforce's totalSize, Sage Intacct's totalcount, Act-On's totalCount, over several pages.
    with Sandbox(records=500, sources=[scheme]) as sandbox:
        case = sandbox.specs[scheme].conformance
        assert case is not None
        url = sandbox.url(scheme) + "".join(f"&{k}={v}" for k, v in case.small_pages.items())
        with federation.connect({"src": url}) as con:
            table = con.federation.sources["src"].table(case.table)
            totals = Totals()
            pages = 0
            for batch in table.scan(ScanRequest((case.key,), progress=totals)):
                totals.read += batch.num_rows
                pages += 1
    assert pages >= 3 and totals.read >= 500
    assert sum(totals.parts.values()) == totals.read
    assert totals.first_at == 0  # before the first page was handed out


def test_importing_federation_imports_no_tqdm() -> None:
    code = "import sys, federation; federation.connect; assert 'tqdm' not in sys.modules, 'tqdm was imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)

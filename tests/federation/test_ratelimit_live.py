"""The process-wide rate limiter against an emulator that counts calls in every window and answers any excess
with 429: several threads' scans share one account's quota, lose nothing, see no 429 and use the quota well."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import federation
from connectors.template.emulator import TemplateEmulator
from federation.emulation.quotas import Quota

from ..template_source import template_properties

THREADS = 4
ROWS = 250  # per scan, in pages of 50: five full pages and an empty one


@pytest.fixture()
def emulator() -> Iterator[TemplateEmulator]:
    with TemplateEmulator(records=1000) as running:
        yield running


def properties(emulator: TemplateEmulator, tmp_path: Path, rate_limit: str) -> dict[str, str]:
    return {"scheme": "template", **template_properties(emulator, tmp_path, PageSize="50", RateLimit=rate_limit)}


def scan_in_threads(props: dict[str, str]) -> list[int]:
    # Log in and read the metadata first, so the threads' calls are all scan pages.
    with federation.connect({"src": props}) as con:
        con.execute("SELECT id FROM src.contacts LIMIT 1").fetchall()
    counts: list[int] = []
    failures: list[BaseException] = []

    def scan() -> None:
        try:
            with federation.connect({"src": props}) as con:
                row = con.execute(f"SELECT count(DISTINCT id) FROM src.contacts WHERE id <= {ROWS}").fetchone()
                assert row is not None
                counts.append(int(row[0]))
        except BaseException as error:  # surfaced below: a thread's failure must fail the test
            failures.append(error)

    threads = [threading.Thread(target=scan) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    return counts


def test_a_sliding_window_of_5_calls_a_second_across_4_threads(emulator: TemplateEmulator, tmp_path: Path) -> None:
    props = properties(emulator, tmp_path, "5/second")
    emulator.set_quotas([Quota("second", 5, 1.0)])
    started = time.time()
    counts = scan_in_threads(props)
    assert counts == [ROWS] * THREADS  # every scan complete
    assert emulator.rejected == 0  # no call was ever refused
    assert emulator.quotas.max_in_any_window("second") <= 5
    served = [t for t in emulator.quotas.served() if t >= started]
    scans = [t for t in served][-(THREADS * 6) :]
    rate = (len(scans) - 1) / (scans[-1] - scans[0])
    assert rate >= 0.9 * 5, f"{rate:.2f} calls/s is under 90% of the allowed 5"


def test_a_clock_aligned_window_across_4_threads(emulator: TemplateEmulator, tmp_path: Path) -> None:
    # Exact Online counts 60 calls per clock minute; the same shape, 10 calls per clock-aligned 2 seconds.
    props = properties(emulator, tmp_path, "10/2s aligned")
    emulator.set_quotas([Quota("window", 10, 2.0, aligned=True)])
    counts = scan_in_threads(props)
    assert counts == [ROWS] * THREADS
    assert emulator.rejected == 0
    served = emulator.quotas.served()
    windows: dict[int, int] = {}
    for stamp in served:
        windows[math.floor(stamp / 2.0)] = windows.get(math.floor(stamp / 2.0), 0) + 1
    assert max(windows.values()) <= 10
    # No needless waiting: the calls fill the windows they span, all but the first and last to the limit.
    spanned = sorted(windows)
    assert len(spanned) <= math.ceil(len(served) / 10) + 1
    inner = [windows[w] for w in spanned[1:-1]]
    assert all(count >= 9 for count in inner), windows

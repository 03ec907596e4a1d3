"""Faults mid-scan: server errors and dropped connections, sessions that expire, and rate limits.

A scan that meets a fault on its first or a later page retries and returns the complete result, with no row
lost or repeated, and the emulator's call count shows the retry. When the faults outlast the retries the query
raises duckfed's `TransientError`, never a partial result. An expired session costs exactly one re-login (or
token refresh). A quota the emulator enforces, or 429s it injects, are waited out.
"""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa
import pytest

from federation.emulation.quotas import Quota
from federation.errors import TransientError
from federation.sandbox import ConformanceCase

from .support import SCHEMA, Source

#: The faults a page may meet; the first two are answered, the last two lose the connection.
FAULTS: dict[str, dict[str, Any]] = {
    "503-with-retry-after": {"status": 503, "retry_after": 0},
    "503": {"status": 503},
    "dropped-request": {"drop": True},
    "dropped-response": {"drop": True, "after_processing": True},
}
#: Pages of the scan let through before the fault: the first page fails, or the third.
POSITIONS = {"first-page": 0, "later-page": 2}


@pytest.fixture()
def expected(full: pa.Table, case: ConformanceCase) -> list[str]:
    return sorted(str(key) for key in full.column(case.key).to_pylist())


def pages(case: ConformanceCase, records: int) -> int:
    return math.ceil(records / case.page_size)


def assert_complete(got: list[str], expected: list[str]) -> None:
    assert len(got) == len(set(got)), "a row appeared twice"
    assert sorted(got) == expected


@pytest.mark.parametrize("skip", POSITIONS.values(), ids=POSITIONS.keys())
@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_a_page_that_fails_once_is_retried(
    source: Source, case: ConformanceCase, records: int, expected: list[str], fault: dict[str, Any], skip: int
) -> None:
    con = source.warm(**case.small_pages)
    source.server.inject(kinds={case.scan_kind}, skip=skip, **fault)
    before = source.calls()
    assert_complete(source.keys(con), expected)
    assert source.calls() - before == pages(case, records) + 1


@pytest.mark.parametrize("skip", POSITIONS.values(), ids=POSITIONS.keys())
@pytest.mark.parametrize("fault", [FAULTS["503"], FAULTS["dropped-request"]], ids=["503", "dropped"])
def test_a_page_that_keeps_failing_fails_the_query_with_a_transient_error(
    source: Source, case: ConformanceCase, scheme: str, expected: list[str], fault: dict[str, Any], skip: int
) -> None:
    con = source.warm(MaxRetries="2", **case.small_pages)
    server = source.server
    server.inject(kinds={case.scan_kind}, skip=skip, times=1000, **fault)
    with pytest.raises(TransientError) as caught:
        source.keys(con)
    assert caught.value.source == scheme
    server.clear_faults()
    server.inject(kinds={case.scan_kind}, skip=skip, times=1000, **fault)
    relation = con.sql(f"SELECT * FROM {source.table()}")
    assert relation is not None
    with pytest.raises(TransientError):
        relation.to_arrow_table()
    server.clear_faults()
    # The connection is still usable, and its next scan complete.
    assert_complete(source.keys(con), expected)


def test_a_session_that_expires_mid_scan_is_renewed_once(
    source: Source, case: ConformanceCase, expected: list[str]
) -> None:
    con = source.warm(**case.small_pages)
    server = source.server
    before = source.by_kind()
    assert_complete(source.keys(con), expected)
    clean = source.by_kind() - before
    server.after(case.scan_kind, 1, server.expire_sessions)
    before = source.by_kind()
    assert_complete(source.keys(con), expected)
    # Beyond a clean scan: the refused page (each of the pages in flight, when they are fetched in parallel),
    # sent again, and one login (or refresh), each call once.
    extra = (source.by_kind() - before) - clean
    in_flight = con.federation.sources[SCHEMA].table(case.table).info.max_concurrency
    refused = sum(extra.pop(kind, 0) for kind in server.kind_groups.get(case.scan_kind, {case.scan_kind}))
    assert 1 <= refused <= in_flight, f"calls beyond a clean scan: {dict(extra)}, {refused} pages"
    assert sum(extra.values()) >= 1 and set(extra.values()) == {1}, f"calls beyond a clean scan: {dict(extra)}"
    assert sum(extra.values()) <= max(case.login_calls, 1), f"more than one re-login: {dict(extra)}"


def test_a_quota_is_waited_out(source: Source, case: ConformanceCase, expected: list[str]) -> None:
    con = source.with_vendor_limits().warm(**case.small_pages)
    server = source.server
    rejected = server.rejected
    server.set_quotas([Quota("burst", 3, 1.0)])
    assert_complete(source.keys(con), expected)
    assert server.rejected > rejected, "the scan never met the quota"


@pytest.mark.parametrize("skip", POSITIONS.values(), ids=POSITIONS.keys())
def test_injected_429s_are_waited_out(
    source: Source, case: ConformanceCase, records: int, expected: list[str], skip: int
) -> None:
    con = source.with_vendor_limits().warm(**case.small_pages)
    source.server.inject(429, retry_after=0.2, times=2, kinds={case.scan_kind}, skip=skip)
    before = source.calls()
    assert_complete(source.keys(con), expected)
    assert source.calls() - before == pages(case, records) + 2

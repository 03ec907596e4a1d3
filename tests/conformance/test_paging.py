"""Paging: page boundaries, LIMIT stopping after one page, cached metadata, and a table that changes mid-scan.

Offset paging over a table that changes while it is read silently skips or repeats rows; a connector must page
by key or by the API's cursor, so that every record that exists throughout a scan appears exactly once.
"""

from __future__ import annotations

import math

from federation.emulation.emulator import Mutation
from federation.sandbox import ConformanceCase

from .support import Source, quoted


def test_page_boundaries_lose_and_repeat_nothing(source: Source, case: ConformanceCase, records: int) -> None:
    con = source.warm(**case.small_pages)
    before = source.calls()
    result = con.execute(f"SELECT count(*), count(DISTINCT {quoted(case.key)}) FROM {source.table()}").fetchone()
    pages = source.calls() - before
    assert result is not None
    count, distinct = result
    assert count == distinct == records
    assert pages == math.ceil(records / case.page_size)


def test_the_pages_hold_the_same_rows_as_one_large_page(source: Source, case: ConformanceCase) -> None:
    small = source.keys(source.open(**case.small_pages))
    large = source.keys(source.open())
    assert len(small) == len(set(small))
    assert sorted(small) == sorted(large)


def test_limit_stops_after_the_first_page(source: Source, case: ConformanceCase) -> None:
    con = source.warm(**case.small_pages)
    before = source.calls()
    assert len(con.execute(f"SELECT * FROM {source.table()} LIMIT 10").fetchall()) == 10
    assert source.calls() - before == 1
    # A LIMIT that the first page covers exactly still costs one page.
    before = source.calls()
    assert len(con.execute(f"SELECT * FROM {source.table()} LIMIT {case.page_size}").fetchall()) == case.page_size
    assert source.calls() - before == 1


def test_a_new_connection_reuses_cached_metadata(source: Source, case: ConformanceCase) -> None:
    source.open().execute(f"SELECT count(*) FROM {source.table()}").fetchall()
    before = source.calls()
    source.open().execute(f"SELECT {quoted(case.key)} FROM {source.table()} LIMIT 1").fetchall()
    # The login and one page: no tables list, no describe.
    assert source.calls() - before == case.login_calls + 1


def test_records_created_and_deleted_mid_scan_are_neither_lost_nor_repeated(
    scratch_source: Source, case: ConformanceCase
) -> None:
    source = scratch_source
    con = source.warm(**case.small_pages)
    before = set(source.keys(con))
    assert len(before) > 2 * case.page_size, "the scan must span several pages"
    server = source.server
    seen: list[Mutation] = []
    # After the second page is served, before the third is asked for.
    server.after(case.scan_kind, 2, lambda: seen.append(server.mutate(case.table, create=5, delete=5)))
    got = source.keys(con)
    assert len(seen) == 1, "the scan ended before its second page"
    created, deleted = set(seen[0].created), set(seen[0].deleted)
    assert len(created) == len(deleted) == 5 and deleted <= before
    assert len(got) == len(set(got)), "a key appeared twice"
    missing = (before - deleted) - set(got)
    assert not missing, f"{len(missing)} records that existed throughout the scan were skipped"
    assert set(got) <= before | created, "the scan returned keys that never existed"
    # The next scan sees the table as it now is.
    assert set(source.keys(con)) == (before - deleted) | created

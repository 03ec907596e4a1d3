"""Intacct scans paged in parallel by offset, against the emulator: the same calls and rows as paging by key, never
more requests in flight than the company's cap, LIMIT costing only the pages it needs, a failing page failing
the query, and records created and deleted mid-scan neither lost nor repeated."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from connectors.sageintacct.emulator import IntacctEmulator
from federation.connection import Connection, connect
from federation.errors import TransientError
from federation.sandbox import Sandbox
from tests.kept_count import held_first

#: With 200 a page, the 790 records after the first page fit in 4 pages of 199 new records each (one record
#: overlaps the page before) as in 4 of 200: parallel paging costs no call more than paging by key.
RECORDS = 990
PAGE = 200


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(records=RECORDS, sources=["sageintacct"]) as running:
        yield running


@pytest.fixture()
def api(sandbox: Sandbox) -> Iterator[IntacctEmulator]:
    server = sandbox.server("sageintacct")
    assert isinstance(server, IntacctEmulator)
    yield server
    server.latency = 0.0
    server.clear_faults()


def open_(sandbox: Sandbox, **extra: str) -> Connection:
    con = connect({"sage": {**sandbox.properties("sageintacct"), **extra, "scheme": "sageintacct"}})
    con.execute("SELECT Recordno FROM sage.Customer LIMIT 1").fetchall()  # log in and look the object up
    return con


def keys(con: Connection, sql: str = "SELECT Recordno FROM sage.Customer") -> list[int]:
    return [int(row[0]) for row in con.execute(sql).fetchall()]


def test_parallel_pages_cost_the_calls_of_paging_by_key_and_return_the_same_rows(
    sandbox: Sandbox, api: IntacctEmulator
) -> None:
    with open_(sandbox, PageSize="2000") as whole:
        expected = whole.execute("SELECT * FROM sage.Customer ORDER BY Recordno").fetchall()
    assert len(expected) == RECORDS
    with open_(sandbox, PageSize=str(PAGE)) as con:
        api.latency = 0.05  # long enough for requests to overlap
        api.reset_counts()
        rows = con.execute("SELECT * FROM sage.Customer").fetchall()
        assert api.calls_by_kind["query"] == math.ceil(RECORDS / PAGE)
        assert api.calls == api.calls_by_kind["query"]  # no login, no lookup: both were cached
        # Two at once (the company's cap), never more.
        assert api.max_in_flight == 2
    assert rows == expected  # pages are handed out in key order, each record once


def test_limit_costs_only_the_pages_it_needs(sandbox: Sandbox, api: IntacctEmulator) -> None:
    with open_(sandbox, PageSize=str(PAGE)) as con:
        api.reset_counts()
        assert len(keys(con, "SELECT Recordno FROM sage.Customer LIMIT 5")) == 5
        assert api.calls_by_kind["query"] == 1
        api.reset_counts()
        assert len(keys(con, "SELECT Recordno FROM sage.Customer LIMIT 450")) == 450
        assert api.calls_by_kind["query"] == math.ceil(450 / PAGE)


def test_a_page_that_fails_fails_the_query(sandbox: Sandbox, api: IntacctEmulator) -> None:
    with open_(sandbox, PageSize=str(PAGE), MaxRetries="2") as con:
        api.inject(503, kinds={"query"}, skip=2, times=1000)
        with pytest.raises(TransientError):
            keys(con)
        api.clear_faults()
        assert sorted(keys(con)) == sorted(set(keys(con)))
        assert len(keys(con)) == RECORDS


@pytest.mark.parametrize("after", [1, 2, 4])
def test_records_created_and_deleted_mid_scan_are_neither_lost_nor_repeated(
    sandbox: Sandbox, api: IntacctEmulator, after: int
) -> None:
    with open_(sandbox, PageSize=str(PAGE)) as con:
        before = set(keys(con))
        changed: list[tuple[set[int], set[int]]] = []

        def mutate() -> None:
            done = api.mutate("Customer", create=3, delete=3)
            changed.append(({int(k) for k in done.created}, {int(k) for k in done.deleted}))

        api.after("query", after, mutate)
        seen = keys(con)
        created, deleted = changed[0]
        assert len(seen) == len(set(seen)), "a record was handed out twice"
        # Every record that existed throughout the scan is there; the created and deleted ones may or may not be.
        assert before - deleted <= set(seen) <= before | created


def test_a_repeated_full_scan_sends_its_first_pages_together_for_the_same_calls(
    sandbox: Sandbox, api: IntacctEmulator
) -> None:
    with open_(sandbox, PageSize=str(PAGE)) as con:
        expected = keys(con)  # a full scan: its row count is kept for the next one
        api.latency = 0.2  # every request waits in the emulator: those sent together are in flight together
        api.reset_counts()
        alongside = held_first(api, "query")
        assert keys(con) == expected
        assert alongside == [2]
        assert api.calls_by_kind["query"] == math.ceil(len(expected) / PAGE)
        assert api.max_in_flight == 2


# Last in this module: it changes the records the tests above count.
@pytest.mark.parametrize(("create", "delete"), [(0, 450), (0, 30), (330, 0)])
def test_a_full_scan_after_the_table_changed_returns_it_as_it_is_now(
    sandbox: Sandbox, api: IntacctEmulator, create: int, delete: int
) -> None:
    """The kept row count is a guess: pages past the true end are dropped, pages beyond it are still read."""
    with open_(sandbox, PageSize=str(PAGE)) as con:
        keys(con)
        api.mutate("Customer", create=create, delete=delete)
        with open_(sandbox, PageSize="2000") as whole:
            now = keys(whole)
        assert keys(con) == now

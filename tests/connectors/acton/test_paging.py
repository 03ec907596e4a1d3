"""Act-On contact-list records paged in parallel by offset, against the emulator: the calls of a page-after-page scan,
the same rows, never more requests in flight than declared, LIMIT costing only the pages it needs, a failing
page failing the query, and records that move mid-scan neither lost nor repeated."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

import federation
from connectors.acton.emulator import ActOnEmulator
from federation.connection import Connection
from federation.errors import TransientError
from federation.sandbox import Sandbox
from tests.kept_count import held_first

PAGE = 200
SQL = "SELECT ContactId FROM a.List_Newsletter"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(records=1000, sources=["acton"]) as running:
        yield running


@pytest.fixture()
def api(sandbox: Sandbox) -> Iterator[ActOnEmulator]:
    server = sandbox.server("acton")
    assert isinstance(server, ActOnEmulator)
    yield server
    server.latency = 0.0
    server.clear_faults()


def open_(sandbox: Sandbox, **extra: str) -> Connection:
    con = federation.connect({"a": {**sandbox.properties("acton"), **extra, "scheme": "acton"}})
    con.execute(f"{SQL} LIMIT 1").fetchall()  # log in and read the list's headings
    return con


def keys(con: Connection, sql: str = SQL) -> list[str]:
    return [str(row[0]) for row in con.execute(sql).fetchall()]


def test_parallel_pages_cost_the_calls_of_a_sequential_scan_and_return_the_same_rows(
    sandbox: Sandbox, api: ActOnEmulator
) -> None:
    with open_(sandbox, PageSize="1000") as whole:
        expected = keys(whole)
    with open_(sandbox, PageSize=str(PAGE)) as con:
        table = con.federation.sources["a"].table("List_Newsletter")
        api.latency = 0.05
        api.reset_counts()
        got = keys(con)
        # The first page, then pages of PAGE + 1 records that start on the record the page before ended with.
        assert api.calls_by_kind["records"] == 1 + math.ceil((len(expected) - PAGE) / PAGE)
        assert 2 <= api.max_in_flight <= table.info.max_concurrency
    assert got == expected


def test_limit_costs_only_the_pages_it_needs(sandbox: Sandbox, api: ActOnEmulator) -> None:
    with open_(sandbox, PageSize=str(PAGE)) as con:
        api.reset_counts()
        assert len(keys(con, f"{SQL} LIMIT 5")) == 5
        assert api.calls_by_kind["records"] == 1
        api.reset_counts()
        assert len(keys(con, f"{SQL} LIMIT 450")) == 450
        assert api.calls_by_kind["records"] == 3


def test_a_page_that_fails_fails_the_query(sandbox: Sandbox, api: ActOnEmulator) -> None:
    with open_(sandbox, PageSize=str(PAGE), MaxRetries="2") as con:
        api.inject(503, kinds={"records"}, skip=2, times=1000)
        with pytest.raises(TransientError):
            keys(con)
        api.clear_faults()
        got = keys(con)
        assert len(got) == len(set(got))


@pytest.mark.parametrize("after", [1, 2, 3])
def test_records_deleted_mid_scan_are_neither_lost_nor_repeated(
    sandbox: Sandbox, api: ActOnEmulator, after: int
) -> None:
    with open_(sandbox, PageSize=str(PAGE)) as con:
        before = set(keys(con))
        deleted: list[str] = []
        api.after("records", after, lambda: deleted.extend(api.mutate("List_Newsletter", delete=2).deleted))
        seen = keys(con)
        assert len(seen) == len(set(seen)), "a record was handed out twice"
        assert before - set(deleted) <= set(seen) <= before


def test_a_repeated_full_scan_sends_its_first_pages_together_for_the_same_calls(
    sandbox: Sandbox, api: ActOnEmulator
) -> None:
    with open_(sandbox, PageSize=str(PAGE)) as con:
        expected = keys(con)  # a full scan: its row count is kept for the next one
        calls = 1 + math.ceil((len(expected) - PAGE) / PAGE)
        api.latency = 0.2  # every request waits in the emulator: those sent together are in flight together
        api.reset_counts()
        alongside = held_first(api, "records")
        assert keys(con) == expected
        assert alongside and alongside[0] >= 2
        assert api.calls_by_kind["records"] == calls


@pytest.mark.parametrize(("create", "delete"), [(0, 450), (0, 30), (330, 0)])
def test_a_full_scan_after_the_table_changed_returns_it_as_it_is_now(
    sandbox: Sandbox, api: ActOnEmulator, create: int, delete: int
) -> None:
    """The kept row count is a guess: pages past the true end are dropped, pages beyond it are still read."""
    with open_(sandbox, PageSize=str(PAGE)) as con:
        keys(con)
        api.mutate("List_Newsletter", create=create, delete=delete)
        with open_(sandbox, PageSize="1000") as whole:
            now = keys(whole)
        assert keys(con) == now

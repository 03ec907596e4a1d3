"""Large scans through Bulk API 2.0 query jobs (issue 12, item 4), against the emulator: the calls each path costs
(counted by the emulator), the same rows as REST paging, REST kept for LIMIT, top-N and selective scans, polling
that backs off and counts, and an interrupt that stops a job's polling at once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

import federation
from federation.connection import Connection
from federation.errors import Cancelled
from federation.sandbox import Sandbox

BULK_KINDS = ("bulk_query_create", "bulk_query_job", "bulk_query_results")
RECORDS = 10_000


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(records=RECORDS, sources=["financialforce"]) as running:
        yield running


@pytest.fixture(scope="module")
def con(sandbox: Sandbox) -> Iterator[Connection]:
    props = {**sandbox.properties("financialforce"), "scheme": "financialforce", "PageSize": "200"}
    sources = {"fin": {**props, "BulkThreshold": "5000"}, "ref": {**props, "UseBulkAPI": "false"}}
    with federation.connect(sources) as connection:
        for name in sources:
            connection.execute(f"SELECT 1 FROM {name}.Account LIMIT 1").fetchall()  # log in, describe, generate
        yield connection


@pytest.fixture()
def api(sandbox: Sandbox) -> Iterator[Any]:
    server = sandbox.server("financialforce")
    server.reset_counts()
    yield server
    server.bulk.processing_polls = 0
    server.bulk.chunk_records = 1_000_000


def calls(api: Any) -> Counter[str]:
    return Counter({kind: n for kind, n in api.calls_by_kind.items() if n})


def run(con: Connection, api: Any, sql: str) -> tuple[list[tuple[object, ...]], Counter[str]]:
    api.reset_counts()
    rows = con.execute(sql).fetchall()
    return rows, calls(api)


def test_a_large_scan_costs_far_fewer_calls_by_bulk_and_returns_the_same_rows(con: Connection, api: Any) -> None:
    bulk, by_job = run(con, api, "SELECT * FROM fin.Account")
    rest, by_pages = run(con, api, "SELECT * FROM ref.Account")
    # REST: ceil(10,000 / 200) pages. Bulk: the first REST page (which tells the size), create, one poll, one chunk.
    assert by_pages == {"query": 1, "queryMore": RECORDS // 200 - 1}
    assert by_job == {"query": 1, "bulk_query_create": 1, "bulk_query_job": 1, "bulk_query_results": 1}
    assert len(bulk) == RECORDS and sorted(bulk, key=repr) == sorted(rest, key=repr)


def test_a_scan_of_a_table_of_known_size_goes_straight_to_bulk(con: Connection, api: Any) -> None:
    con.execute("SELECT count(*) FROM (SELECT * FROM fin.Account)").fetchall()  # a full scan counts the rows
    _, spent = run(con, api, "SELECT Id, Name FROM fin.Account")
    assert spent == {"bulk_query_create": 1, "bulk_query_job": 1, "bulk_query_results": 1}


def test_explain_shows_a_scan_going_to_a_job_before_any_call(con: Connection, api: Any) -> None:
    con.execute("SELECT count(*) FROM (SELECT * FROM fin.Account)").fetchall()  # a full scan counts the rows
    api.reset_counts()
    plan = " ".join(str(value) for row in con.execute("EXPLAIN SELECT Id FROM fin.Account").fetchall() for value in row)
    assert "as a Bulk API 2.0 query job: about 4 calls for the 10,000 records" in plan
    assert sum(api.calls_by_kind.values()) == 0


def test_a_large_filtered_scan_moves_to_bulk_with_the_same_rows(con: Connection, api: Any) -> None:
    sql = "SELECT Id, Name, AnnualRevenue, CreatedDate FROM {}.Account WHERE NumberOfEmployees >= 0"
    bulk, spent = run(con, api, sql.format("fin"))
    rest, _ = run(con, api, sql.format("ref"))
    assert set(BULK_KINDS) <= set(spent) and spent["queryMore"] == 0
    assert Counter(bulk) == Counter(rest) and len(rest) > 5000


def test_results_in_several_chunks_are_read_by_their_locators(con: Connection, api: Any) -> None:
    api.bulk.chunk_records = 3000  # as the platform's size limit cuts a chunk short of maxRecords
    bulk, spent = run(con, api, "SELECT Id, Name, Description FROM fin.Account WHERE NumberOfEmployees >= 0")
    rest, _ = run(con, api, "SELECT Id, Name, Description FROM ref.Account WHERE NumberOfEmployees >= 0")
    assert spent["bulk_query_results"] == -(-len(rest) // 3000) > 1
    assert Counter(bulk) == Counter(rest)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT Id, Name FROM fin.Account LIMIT 10", {"query": 1}),
        ("SELECT Id, NumberOfEmployees FROM fin.Account ORDER BY NumberOfEmployees DESC LIMIT 5", {"query": 1}),
        ("SELECT Id FROM fin.Account WHERE NumberOfEmployees = 7", {"query": 1}),  # small: the probe is the scan
    ],
)
def test_limits_top_n_and_small_scans_stay_on_rest(
    con: Connection, api: Any, sql: str, expected: dict[str, int]
) -> None:
    rows, spent = run(con, api, sql)
    assert spent == expected
    assert Counter(rows) == Counter(con.execute(sql.replace("fin.", "ref.")).fetchall())


def test_polling_backs_off_and_counts_every_poll(con: Connection, api: Any) -> None:
    api.bulk.processing_polls = 1  # InProgress once: polls at 0 s and 1 s
    started = time.monotonic()
    rows, spent = run(con, api, "SELECT Id FROM fin.Account WHERE NumberOfEmployees >= 0")
    assert time.monotonic() - started >= 1.0
    assert spent["bulk_query_job"] == 2 and spent["bulk_query_create"] == 1 and len(rows) > 5000


def test_an_interrupt_stops_a_job_being_polled(con: Connection, api: Any) -> None:
    api.bulk.processing_polls = 1000
    failure: list[BaseException] = []

    def scan() -> None:
        try:
            con.execute("SELECT Id FROM fin.Account WHERE NumberOfEmployees >= 0").fetchall()
        except BaseException as error:  # the statement's own error, checked below
            failure.append(error)

    worker = threading.Thread(target=scan)
    worker.start()
    deadline = time.monotonic() + 10
    while api.calls_by_kind.get("bulk_query_job", 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # the job is being polled, waiting 1 s after the first poll
    interrupted = time.monotonic()
    con.interrupt()
    worker.join(10)
    assert not worker.is_alive() and time.monotonic() - interrupted < 1.0
    assert failure and (isinstance(failure[0], Cancelled) or "interrupt" in str(failure[0]).lower())
    assert api.calls_by_kind.get("bulk_query_results", 0) == 0

"""Large INSERT, UPDATE and DELETE statements through one Bulk API 2.0 ingest job (issue 12, item 4), against the
emulator (which returns job results shuffled, as the API may): a handful of calls, keys in row order, partial
failures reported exactly, NULLs written as `#N/A`, and lost replies that never duplicate a record."""

from __future__ import annotations

import datetime
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest

import federation
from connectors.salesforce.bulk import BulkJobs
from connectors.salesforce.bulk_csv import encode_rows
from connectors.salesforce.connector import CertiniaConnector, FinancialForceConnector
from connectors.salesforce.emulator.writes import now_wire
from federation.connection import Connection
from federation.errors import WriteError
from federation.sandbox import Sandbox

ROWS = 1_500  # sObject Collections: 8 calls; an ingest job: 5 (7 expected: 2 polls, failed results)
JOB = {
    "bulk_ingest_create": 1,
    "bulk_ingest_upload": 1,
    "bulk_ingest_state": 1,
    "bulk_ingest_job": 1,
    "bulk_ingest_successful": 1,
}
WRITE_KINDS = ("composite_create", "composite_update", "composite_delete", "create", "update", "delete")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(records=30, sources=["financialforce", "certinia"]) as running:
        yield running
    # The emulator stamps every write a distinct millisecond, process-wide, so thousands of records written in a
    # second run its clock ahead of the wall clock: let it catch up before tests that compare the two.
    time.sleep(max(0.0, stamp_lead()))


def stamp_lead() -> float:
    """How far the emulator's write clock is ahead of the wall clock, in seconds."""
    stamp = datetime.datetime.strptime(now_wire(), "%Y-%m-%dT%H:%M:%S.%f%z")
    return stamp.timestamp() - time.time()


@pytest.fixture(scope="module")
def con(sandbox: Sandbox) -> Iterator[Connection]:
    props = {**sandbox.properties("financialforce"), "scheme": "financialforce", "BulkThreshold": "1000"}
    sources = {"fin": {**props, "AllOrNone": "false"}, "atomic": props}
    with federation.connect(sources) as connection:
        for name in sources:
            connection.execute(f"SELECT 1 FROM {name}.Account LIMIT 1").fetchall()
        yield connection


@pytest.fixture()
def api(sandbox: Sandbox) -> Any:
    server = sandbox.server("financialforce")
    server.reset_counts()
    return server


def spent(api: Any) -> Counter[str]:
    return Counter({kind: n for kind, n in api.calls_by_kind.items() if n and kind not in ("query", "queryMore")})


def held(api: Any, prefix: str) -> list[dict[str, Any]]:
    return [r for r in api.store.records("Account") if str(r.get("Name") or "").startswith(prefix)]


def insert(con: Connection, prefix: str, rows: int = ROWS, returning: str = "RETURNING Id, Name") -> list[Any]:
    sql = (
        f"INSERT INTO fin.Account (Name, NumberOfEmployees, AnnualRevenue) "
        f"SELECT '{prefix}' || i, i, i * 1.25 FROM range({rows}) t(i) {returning}"
    )
    return con.execute(sql).fetchall()


def test_a_large_insert_is_one_job_returning_keys_in_row_order(con: Connection, api: Any) -> None:
    returned = insert(con, "order ")
    assert spent(api) == JOB
    assert [name for _, name in returned] == [f"order {i}" for i in range(ROWS)] and con.rowcount == ROWS
    stored = {r["Id"]: r for r in held(api, "order ")}
    assert len(stored) == ROWS
    assert all(stored[key]["Name"] == name and stored[key]["NumberOfEmployees"] == i
               for i, (key, name) in enumerate(returned))  # fmt: skip


def test_large_updates_and_deletes_are_one_job_each(con: Connection, api: Any) -> None:
    insert(con, "change ", returning="")
    api.reset_counts()
    con.execute("UPDATE fin.Account SET Site = 'bulk site', NumberOfEmployees = NULL WHERE Name LIKE 'change %'")
    assert con.rowcount == ROWS and spent(api) == JOB
    records = held(api, "change ")
    assert {(r["Site"], r["NumberOfEmployees"]) for r in records} == {("bulk site", None)}  # NULL sent as #N/A
    api.reset_counts()
    con.execute("DELETE FROM fin.Account WHERE Name LIKE 'change %'")
    assert con.rowcount == ROWS and spent(api) == JOB and held(api, "change ") == []


def test_partial_failures_are_reported_exactly(con: Connection, api: Any) -> None:
    bad = {7, 300, 1499}  # a name longer than the field's 255 characters: STRING_TOO_LONG
    sql = (
        "INSERT INTO fin.Account (Name) SELECT CASE WHEN i IN (7, 300, 1499) THEN repeat('x', 300) "
        f"ELSE 'partial ' || i END FROM range({ROWS}) t(i)"
    )
    with pytest.raises(WriteError) as caught:
        con.execute(sql)
    error = caught.value
    assert error.written == ROWS - len(bad) and error.unknown == 0
    assert [f.position for f in error.failures] == sorted(bad)
    assert {f.code for f in error.failures} == {"STRING_TOO_LONG"}
    assert len(held(api, "partial ")) == ROWS - len(bad) and len(error.keys) == ROWS - len(bad)
    assert spent(api) == JOB | {"bulk_ingest_failed": 1}


def test_a_job_that_fails_midway_reports_what_it_wrote(con: Connection, api: Any) -> None:
    api.bulk.fail_after = 500
    try:
        with pytest.raises(WriteError, match="the job ended Failed") as caught:
            insert(con, "midway ")
    finally:
        api.bulk.fail_after = None
    error = caught.value
    assert error.written == 500 and error.unknown == ROWS - 500 and not error.failures
    assert sorted(error.keys) == sorted(r["Id"] for r in held(api, "midway "))


def test_all_or_none_writes_and_small_writes_stay_on_collections(con: Connection, api: Any) -> None:
    con.execute(f"INSERT INTO atomic.Account (Name) SELECT 'atomic ' || i FROM range({ROWS}) t(i)")
    assert spent(api) == {"composite_create": 8}
    api.reset_counts()
    insert(con, "small ", rows=400, returning="")
    assert spent(api) == {"composite_create": 2}


def test_text_an_upload_cant_carry_goes_through_collections(con: Connection, api: Any) -> None:
    sql = f"INSERT INTO fin.Account (Name, Site) SELECT 'na ' || i, '#N/A' FROM range({ROWS}) t(i)"
    con.execute(sql)
    assert spent(api) == {"composite_create": 8}
    assert {r["Site"] for r in held(api, "na ")} == {"#N/A"}


@pytest.mark.parametrize("kind", ["bulk_ingest_create", "bulk_ingest_upload", "bulk_ingest_state"])
def test_a_lost_reply_never_duplicates_a_record(sandbox: Sandbox, api: Any, kind: str) -> None:
    connector = FinancialForceConnector(sandbox.properties("financialforce"))
    prefix = f"lost {kind} "
    try:
        jobs = BulkJobs(connector.client)
        connector.client.instance()  # log in before counting
        api.reset_counts()
        api.inject(kinds={kind}, drop=True, after_processing=True)
        info, files = jobs.ingest("Account", "insert", encode_rows(["Name"], [[f"{prefix}{i}"] for i in range(5)]))
    finally:
        connector.close()
    assert info["state"] == "JobComplete" and files["successfulResults"].count(b"\n") == 6  # header + 5
    names = Counter(r["Name"] for r in held(api, prefix))
    assert len(names) == 5 and set(names.values()) == {1}
    calls = spent(api)
    if kind == "bulk_ingest_create":  # the job the lost call created is found and used
        assert calls["bulk_ingest_create"] == 1 and calls["bulk_ingest_list"] == 1
    elif kind == "bulk_ingest_upload":  # that job is aborted unprocessed, and a new one carries the rows
        assert calls["bulk_ingest_create"] == 2 and calls["bulk_ingest_state"] == 2
    else:  # the job's state shows the lost close was carried out
        assert calls["bulk_ingest_state"] == 1 and calls["bulk_ingest_job"] == 2
    assert not any(calls[k] for k in WRITE_KINDS)


def test_a_large_upsert_is_one_job_and_running_it_again_creates_nothing(sandbox: Sandbox) -> None:
    api: Any = sandbox.server("certinia")
    props = {**sandbox.properties("certinia"), "AllOrNone": "false", "BulkThreshold": "1000"}
    connector = CertiniaConnector(props)
    try:
        table = connector.table("pse__Proj__c")
        rows = pa.table(
            {
                "pse__Project_ID__c": [f"UP-{i}" for i in range(ROWS)],
                "Name": [f"upserted {i}" for i in range(ROWS)],
                "pse__Planned_Hours__c": [None if i % 7 == 0 else float(i) for i in range(ROWS)],
            }
        )
        api.reset_counts()
        first = table.upsert("pse__Project_ID__c", rows)
        assert spent(api) == JOB and first.count == ROWS
        again = table.upsert(
            "pse__Project_ID__c", rows.set_column(1, "Name", pa.array([f"again {i}" for i in range(ROWS)]))
        )
    finally:
        connector.close()
    assert again.keys == first.keys  # the same records, in row order
    stored = [r for r in api.store.records("pse__Proj__c") if str(r.get("pse__Project_ID__c") or "").startswith("UP-")]
    assert len(stored) == ROWS and {r["Name"].split()[0] for r in stored} == {"again"}
    by_key = {r["Id"]: r for r in stored}
    assert [by_key[k]["pse__Project_ID__c"] for k in first.keys] == [f"UP-{i}" for i in range(ROWS)]

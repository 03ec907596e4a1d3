"""Salesforce's deletion feed, sObject Get Deleted (`sobjects/{Object}/deleted/?start=…&end=…`): the emulator's
delete log with the platform's limits, the connector reading it, and `duckfed sync` applying it with one call where
it covers the span since the last run, and scanning the keys where it does not."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

import federation
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.deleted import deleted_since
from connectors.salesforce.emulator import SalesforceEmulator
from federation.connection import Connection
from federation.errors import Error, UnknownTableError
from federation.http import Operation
from federation.sandbox import Sandbox
from federation.sync import sync


@pytest.fixture()
def sandbox() -> Iterator[Sandbox]:
    """Emulators of their own: these tests delete records and empty the recycle bin."""
    with Sandbox(records=120, sources=["financialforce"]) as running:
        yield running


@pytest.fixture()
def con(sandbox: Sandbox) -> Iterator[Connection]:
    with federation.connect({"fin": sandbox.url("financialforce")}) as opened:
        yield opened


def client(con: Connection) -> SalesforceClient:
    table: Any = con.federation.sources["fin"].table("Account")
    return table.client  # type: ignore[no-any-return]


def emulator(sandbox: Sandbox) -> SalesforceEmulator:
    server = sandbox.server("financialforce")
    assert isinstance(server, SalesforceEmulator)
    return server


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def get_deleted(con: Connection, obj: str, start: str, end: str) -> dict[str, Any]:
    response = client(con).http.request(
        "GET",
        f"{client(con).data_path}/sobjects/{obj}/deleted/",
        operation=Operation("getDeleted", idempotent=True),
        params={"start": start, "end": end},
    )
    body: dict[str, Any] = response.json()
    return body


def wire(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def test_the_delete_log_lists_the_records_deleted_in_the_span(sandbox: Sandbox, con: Connection) -> None:
    before = now()
    doomed = [row[0] for row in con.execute("SELECT Id FROM fin.Account ORDER BY Id LIMIT 2").fetchall()]
    con.execute("DELETE FROM fin.Account WHERE Id IN (SELECT unnest($1))", [doomed])
    body = get_deleted(con, "Account", wire(before - dt.timedelta(minutes=5)), wire(now() + dt.timedelta(minutes=1)))
    assert sorted(r["id"] for r in body["deletedRecords"]) == sorted(doomed)
    for record in body["deletedRecords"]:
        assert before - dt.timedelta(seconds=1) <= dt.datetime.fromisoformat(record["deletedDate"]) <= now()
    # The log reaches back 15 days, and covers no later than the end asked for (nor than now).
    earliest = dt.datetime.fromisoformat(body["earliestDateAvailable"])
    assert abs(earliest - (now() - dt.timedelta(days=15))) < dt.timedelta(minutes=2)
    assert dt.datetime.fromisoformat(body["latestDateCovered"]) <= now()
    # A span that ended before the deletions lists none of them; another object's log holds none of them.
    earlier = get_deleted(con, "Account", wire(before - dt.timedelta(hours=1)), wire(before - dt.timedelta(minutes=2)))
    assert earlier["deletedRecords"] == []
    other = get_deleted(con, "Contact", wire(before - dt.timedelta(minutes=5)), wire(now()))
    assert other["deletedRecords"] == []

    found = deleted_since(client(con), "Account", before)
    assert found is not None and sorted(key for key, _ in found) == sorted(doomed)


@pytest.mark.parametrize(
    ("start", "end", "why"),
    [
        (dt.timedelta(days=-31), dt.timedelta(0), "within the last 30 days"),
        (dt.timedelta(minutes=-1), dt.timedelta(0), "more than one minute"),
        (dt.timedelta(0), dt.timedelta(minutes=-5), "more than one minute"),
        (None, dt.timedelta(0), "ISO 8601"),
    ],
)
def test_a_span_the_platform_refuses_is_invalid_replication_date(
    con: Connection, start: dt.timedelta | None, end: dt.timedelta, why: str
) -> None:
    moment = now().replace(second=30)
    with pytest.raises(Error, match=why) as raised:
        get_deleted(con, "Account", "yesterday" if start is None else wire(moment + start), wire(moment + end))
    assert raised.value.api_code == "INVALID_REPLICATION_DATE"


def test_an_unknown_object_has_no_delete_log(con: Connection) -> None:
    with pytest.raises(UnknownTableError):
        get_deleted(con, "Acount", wire(now() - dt.timedelta(hours=1)), wire(now()))


def test_the_connector_says_when_the_log_cannot_vouch_for_the_span(sandbox: Sandbox, con: Connection) -> None:
    server = emulator(sandbox)
    server.reset_counts()
    # Further back than the log holds: no call, the sync reads the keys instead.
    assert deleted_since(client(con), "Account", now() - dt.timedelta(days=20)) is None
    assert server.calls_by_kind.get("deleted", 0) == 0
    # An administrator emptied the recycle bin since: the platform refuses the span.
    since = now() - dt.timedelta(hours=1)
    assert deleted_since(client(con), "Account", since) == []
    server.empty_recycle_bin()
    assert deleted_since(client(con), "Account", since) is None
    assert server.calls_by_kind["deleted"] == 2


def rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path), read_only=True) as file:
        return file.execute(sql).fetchall()


def test_sync_applies_the_feed_with_one_call_and_scans_keys_where_it_falls_short(
    sandbox: Sandbox, con: Connection, tmp_path: Path
) -> None:
    path = tmp_path / "crm.duckdb"
    server = emulator(sandbox)
    said: list[str] = []
    sync(con, path, ["Account"], say=said.append)
    con.execute("DELETE FROM fin.Account WHERE Id = (SELECT max(Id) FROM fin.Account)")
    con.execute("UPDATE fin.Account SET BillingCity = 'Feedville' WHERE Id = (SELECT min(Id) FROM fin.Account)")
    server.reset_counts()
    sync(con, path, ["Account"], say=said.append)
    # The changed records in one query, the deletions in one getDeleted call, and no scan of the keys.
    assert dict(server.calls_by_kind) == {"query": 1, "deleted": 1}
    assert "1 deleted (deletion feed: 1 call)" in said[-1]
    expected = con.execute("SELECT * FROM fin.Account ORDER BY Id").fetchall()
    assert rows(path, "SELECT * FROM fin.Account ORDER BY Id") == expected

    # The last run started longer ago than the log reaches back: this one scans the keys, and says why.
    with duckdb.connect(str(path)) as file:
        file.execute("UPDATE _duckfed_sync SET started = started - INTERVAL 20 DAY")
    con.execute("DELETE FROM fin.Account WHERE Id = (SELECT max(Id) FROM fin.Account)")
    server.reset_counts()
    sync(con, path, ["Account"], say=said.append)
    assert "deleted" not in server.calls_by_kind and server.calls_by_kind["query"] >= 2
    assert "1 deleted (key scan: the deletion feed does not reach back to " in said[-1]
    assert (
        rows(path, "SELECT * FROM fin.Account ORDER BY Id")
        == con.execute("SELECT * FROM fin.Account ORDER BY Id").fetchall()
    )

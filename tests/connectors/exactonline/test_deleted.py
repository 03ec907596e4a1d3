"""Exact Online's deletion feed, `sync/Deleted`: the emulator's log of records deleted through the API (increasing
Timestamps, the one filter it takes, paging, Exact's errors), the connector reading it by its Timestamp cursor, and
`duckfed sync` applying it with one call, keeping the cursor in `_duckfed_sync`, and scanning the keys where the log
can't vouch for the span."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

import federation
from connectors.exactonline import client
from connectors.exactonline.deleted import deleted_after
from connectors.exactonline.emulator import ExactOnlineEmulator
from connectors.exactonline.entities import BY_NAME
from connectors.exactonline.table import EntityTable
from federation.connection import Connection
from federation.errors import Error
from federation.sandbox import Sandbox
from federation.sync import sync
from federation.table import Deletions


@pytest.fixture()
def sandbox() -> Iterator[Sandbox]:
    """An emulator of its own: these tests delete records."""
    with Sandbox(records=150, sources=["exactonline"]) as running:
        yield running


@pytest.fixture()
def con(sandbox: Sandbox) -> Iterator[Connection]:
    with federation.connect({"src": sandbox.url("exactonline")}) as opened:
        yield opened


def emulator(sandbox: Sandbox) -> ExactOnlineEmulator:
    server = sandbox.server("exactonline")
    assert isinstance(server, ExactOnlineEmulator)
    return server


def table(con: Connection, name: str = "Accounts") -> EntityTable:
    found = con.federation.sources["src"].table(name)
    assert isinstance(found, EntityTable)
    return found


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def get_deleted(con: Connection, url: str | None = None, **params: str) -> dict[str, Any]:
    """The feed's `d`, read through the connection's HTTP client (its token, Exact's errors as typed ones)."""
    accounts = table(con)
    target = url or f"{accounts._prefix()}/sync/Deleted"
    response = accounts.http.request("GET", target, operation=client.LIST, params=params or None)
    body: dict[str, Any] = response.json()["d"]
    return body


def rows(path: Path, sql: str, parameters: list[object] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path), read_only=True) as file:
        return file.execute(sql, parameters).fetchall()


def test_the_log_lists_deletions_made_through_the_api_with_increasing_timestamps(con: Connection) -> None:
    doomed = [r[0] for r in con.execute("SELECT ID FROM src.Accounts ORDER BY Code LIMIT 2").fetchall()]
    contact = con.execute("SELECT ID FROM src.Contacts ORDER BY ID LIMIT 1").fetchone()
    assert contact is not None
    before = now()
    con.execute("DELETE FROM src.Accounts WHERE ID IN (SELECT unnest($1))", [doomed])
    con.execute("DELETE FROM src.Contacts WHERE ID = $1", [contact[0]])
    select = "Timestamp,EntityKey,EntityType,DeletedDate,Division"
    reply = get_deleted(con, **{"$select": select, "$filter": "Timestamp gt 1"})
    entries = reply["results"]
    assert sorted((e["EntityType"], e["EntityKey"]) for e in entries[:2]) == sorted((2, key) for key in doomed)
    assert (entries[2]["EntityType"], entries[2]["EntityKey"]) == (5, contact[0])
    stamps = [e["Timestamp"] for e in entries]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3 and "__next" not in reply
    assert all(e["Division"] == 5512 and set(e) == {"__metadata", *select.split(",")} for e in entries)
    deleted_ms = int(entries[0]["DeletedDate"][6:-2])
    assert before.timestamp() - 1 <= deleted_ms / 1000 <= now().timestamp()
    # `gt` the second entry's Timestamp, in the Int64 form: only the third.
    later = get_deleted(con, **{"$select": "EntityKey", "$filter": f"Timestamp gt {stamps[1]}L"})
    assert [e["EntityKey"] for e in later["results"]] == [contact[0]]


def test_a_client_that_asks_no_json_gets_the_atom_feed(con: Connection) -> None:
    doomed = con.execute("SELECT ID FROM src.Accounts ORDER BY Code LIMIT 1").fetchone()
    assert doomed is not None
    con.execute("DELETE FROM src.Accounts WHERE ID = $1", [doomed[0]])
    accounts = table(con)
    response = accounts.http.request(
        "GET",
        f"{accounts._prefix()}/sync/Deleted",
        operation=client.LIST,
        params={"$select": "Timestamp,EntityKey,EntityType", "$filter": "Timestamp gt 1"},
        headers={"Accept": "application/atom+xml"},
    )
    assert response.headers["content-type"].startswith("application/atom+xml")
    ns = {"d": "http://schemas.microsoft.com/ado/2007/08/dataservices"}
    entry = ET.fromstring(response.content).findall(".//{http://www.w3.org/2005/Atom}entry")
    assert [e.findtext(".//d:EntityKey", namespaces=ns) for e in entry] == [doomed[0]]
    assert [e.findtext(".//d:EntityType", namespaces=ns) for e in entry] == ["2"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"$filter": "Timestamp gt 1"}, "$select is mandatory"),
        ({"$select": "EntityKey"}, "Mandatory filter on Timestamp"),
        ({"$select": "EntityKey", "$filter": "EntityType eq 2"}, "Only 'Timestamp gt <value>'"),
        ({"$select": "EntityKey", "$filter": "Timestamp gt 1 and EntityType eq 2"}, "Only 'Timestamp gt <value>'"),
        ({"$select": "Name", "$filter": "Timestamp gt 1"}, "No property 'Name'"),
        ({"$select": "EntityKey", "$filter": "Timestamp gt 1", "$skiptoken": "guid'x'"}, "Invalid $skiptoken"),
    ],
)
def test_the_feed_refuses_what_exact_refuses(con: Connection, params: dict[str, str], message: str) -> None:
    with pytest.raises(Error) as raised:
        get_deleted(con, **params)
    # Exact's error envelope, its message verbatim (typed by the connector's response check).
    assert raised.value.message.startswith(message)


def test_the_log_pages_by_a_thousand_and_keeps_two_months(sandbox: Sandbox, con: Connection) -> None:
    server = emulator(sandbox)
    accounts = BY_NAME["Accounts"]
    for n in range(1001):
        server.deleted.record(5512, accounts, f"00000000-0000-0000-0000-{n:012d}")
    server.deleted.record(5513, accounts, "00000000-0000-0000-0000-999999999999")  # another division's
    first = get_deleted(con, **{"$select": "Timestamp,EntityKey", "$filter": "Timestamp gt 1"})
    assert len(first["results"]) == 1000 and "$skiptoken=" in first["__next"]
    second = get_deleted(con, first["__next"])
    assert [e["EntityKey"] for e in second["results"]] == ["00000000-0000-0000-0000-000000001000"]
    assert "__next" not in second
    # The connector follows the pages; other entity types are left out.
    read = deleted_after(table(con).http, table(con)._prefix(), 2, None, now() - dt.timedelta(hours=1))
    assert read is not None and len(read.deleted) == 1001
    read = deleted_after(table(con).http, table(con)._prefix(), 5, None, now() - dt.timedelta(hours=1))
    assert read is not None and read.deleted == []
    server.clock.advance(60 * 86_400)  # two months on: the log has dropped them
    gone = get_deleted(con, **{"$select": "EntityKey", "$filter": "Timestamp gt 1"})
    assert gone["results"] == []


def test_the_cursor_stops_before_deletions_too_recent_to_be_settled(con: Connection) -> None:
    accounts = table(con)
    doomed = [r[0] for r in con.execute("SELECT ID FROM src.Accounts ORDER BY Code LIMIT 2").fetchall()]
    con.execute("DELETE FROM src.Accounts WHERE ID IN (SELECT unnest($1))", [doomed])
    since = now() - dt.timedelta(minutes=5)
    fresh = deleted_after(accounts.http, accounts._prefix(), 2, None, since)
    settled = deleted_after(accounts.http, accounts._prefix(), 2, None, since, now() + dt.timedelta(minutes=2))
    assert fresh is not None and settled is not None
    assert sorted(str(k) for k, _ in fresh.deleted) == sorted(doomed) == sorted(str(k) for k, _ in settled.deleted)
    # Just deleted: the next read starts before them; a minute later, past them.
    assert int(fresh.cursor) < int(settled.cursor)
    again = deleted_after(accounts.http, accounts._prefix(), 2, fresh.cursor, since)
    assert again is not None and sorted(str(k) for k, _ in again.deleted) == sorted(doomed)
    past = deleted_after(accounts.http, accounts._prefix(), 2, settled.cursor, since)
    assert past is not None and past.deleted == [] and past.cursor == settled.cursor
    # Deletions before `since` (without a cursor) are not the sync's: the file never held them.
    none_since = deleted_after(accounts.http, accounts._prefix(), 2, None, now() + dt.timedelta(minutes=1))
    assert none_since is not None and none_since.deleted == []
    # Older than the log keeps: no call, read the keys instead.
    assert deleted_after(accounts.http, accounts._prefix(), 2, fresh.cursor, now() - dt.timedelta(days=57)) is None


def test_tables_the_feed_covers_declare_it(con: Connection) -> None:
    feeds = {name for name in ("Accounts", "Contacts", "Items", "Journals", "Opportunities", "SalesInvoiceLines")}
    declared = {name: table(con, name).info.deletions for name in feeds}
    assert declared == {
        "Accounts": Deletions.FEED,
        "Contacts": Deletions.FEED,
        "Items": Deletions.FEED,
        "Journals": Deletions.KEY_SCAN,
        "Opportunities": Deletions.KEY_SCAN,
        "SalesInvoiceLines": Deletions.KEY_SCAN,
    }


def test_sync_applies_the_feed_with_one_call_keeps_its_cursor_and_scans_keys_where_it_falls_short(
    sandbox: Sandbox, con: Connection, tmp_path: Path
) -> None:
    path = tmp_path / "exact.duckdb"
    server = emulator(sandbox)
    said: list[str] = []
    sync(con, path, ["Accounts"], say=said.append)
    assert rows(path, "SELECT feed_cursor FROM _duckfed_sync") == [(None,)]  # a full copy reads no feed
    first = con.execute("SELECT ID FROM src.Accounts ORDER BY Code LIMIT 1").fetchone()
    assert first is not None
    con.execute("DELETE FROM src.Accounts WHERE ID = $1", [first[0]])
    con.execute("UPDATE src.Accounts SET City = 'Feedville' WHERE Code = (SELECT max(Code) FROM src.Accounts)")
    server.reset_counts()
    sync(con, path, ["Accounts"], say=said.append)
    # The changed records in one page, the deletions in one call of the feed, and no scan of the keys.
    assert dict(server.calls_by_kind) == {"bulk": 1, "deleted": 1}
    assert "1 deleted (deletion feed: 1 call)" in said[-1]
    expected = con.execute("SELECT * FROM src.Accounts ORDER BY ID").fetchall()
    assert rows(path, "SELECT * FROM src.Accounts ORDER BY ID") == expected
    cursor = rows(path, "SELECT feed_cursor FROM _duckfed_sync ORDER BY finished DESC LIMIT 1")[0][0]
    assert cursor is not None and int(cursor) > 1

    # The next run reads the feed from the stored cursor (a minute later: the deletion above has settled).
    server.clock.advance(120)
    second = con.execute("SELECT ID FROM src.Accounts ORDER BY Code LIMIT 1").fetchone()
    assert second is not None
    con.execute("DELETE FROM src.Accounts WHERE ID = $1", [second[0]])
    server.reset_counts()
    runs = sync(con, path, ["Accounts"], say=said.append)
    assert runs[0].deleted == 1 and server.calls_by_kind["deleted"] == 1 and "deletion feed" in said[-1]
    assert rows(path, "SELECT count(*) FROM src.Accounts WHERE ID IN ($1, $2)", [first[0], second[0]]) == [(0,)]
    assert int(runs[0].cursor or 0) >= int(cursor)

    # The last good run started longer ago than the log keeps: this one scans the keys, and says why.
    with duckdb.connect(str(path)) as file:
        file.execute("UPDATE _duckfed_sync SET started = started - INTERVAL 70 DAY")
    third = con.execute("SELECT ID FROM src.Accounts ORDER BY Code LIMIT 1").fetchone()
    assert third is not None
    con.execute("DELETE FROM src.Accounts WHERE ID = $1", [third[0]])
    server.reset_counts()
    runs = sync(con, path, ["Accounts"], say=said.append)
    assert "deleted" not in server.calls_by_kind and server.calls_by_kind["bulk"] >= 1
    assert "1 deleted (key scan: the deletion feed does not reach back to " in said[-1]
    assert runs[0].cursor is None
    assert (
        rows(path, "SELECT * FROM src.Accounts ORDER BY ID")
        == con.execute("SELECT * FROM src.Accounts ORDER BY ID").fetchall()
    )


def test_a_file_synced_before_the_feed_cursor_existed_still_syncs(con: Connection, tmp_path: Path) -> None:
    path = tmp_path / "older.duckdb"
    said: list[str] = []
    sync(con, path, ["Accounts"], say=said.append)
    with duckdb.connect(str(path)) as file:
        file.execute("ALTER TABLE _duckfed_sync DROP COLUMN feed_cursor")
    doomed = con.execute("SELECT ID FROM src.Accounts ORDER BY Code LIMIT 1").fetchone()
    assert doomed is not None
    con.execute("DELETE FROM src.Accounts WHERE ID = $1", [doomed[0]])
    runs = sync(con, path, ["Accounts"], say=said.append)
    assert runs[0].status == "ok" and runs[0].deleted == 1 and "deletion feed" in said[-1]
    assert rows(path, "SELECT count(*), count(feed_cursor) FROM _duckfed_sync") == [(2, 1)]

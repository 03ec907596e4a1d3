"""The Act-On tables against the emulator: what each query costs in calls, the parameters it narrows by, lists
created through the Lists table, offset paging that fails clearly when records keep moving, and settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import federation
from connectors.acton.connector import ActOnConnector
from connectors.acton.emulator import ActOnEmulator
from federation.connection import Connection
from federation.errors import ConfigurationError, OperationalError
from federation.sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(records=1500, sources=["acton"]) as running:
        yield running


@pytest.fixture()
def api(sandbox: Sandbox) -> ActOnEmulator:
    server = sandbox.server("acton")
    assert isinstance(server, ActOnEmulator)
    return server


@pytest.fixture()
def con(sandbox: Sandbox) -> Iterator[Connection]:
    with federation.connect({"a": {**sandbox.properties("acton"), "scheme": "acton"}}) as opened:
        opened.execute("SELECT count(*) FROM a.Images").fetchall()  # log in
        opened.execute("SELECT count(*) FROM a.List_Newsletter WHERE Created IS NULL").fetchall()  # describe
        yield opened


def calls(api: ActOnEmulator, con: Connection, sql: str) -> tuple[list[tuple[object, ...]], dict[str, int]]:
    before = dict(api.calls_by_kind)
    rows = con.execute(sql).fetchall()
    return rows, {k: n - before.get(k, 0) for k, n in api.calls_by_kind.items() if n != before.get(k, 0)}


def test_a_list_is_read_in_pages_of_a_thousand(api: ActOnEmulator, con: Connection) -> None:
    rows, spent = calls(api, con, "SELECT count(*), count(DISTINCT ContactId) FROM a.List_Newsletter")
    size = len(api.account.lists["l-0001"].records)
    assert rows == [(size, size)] and 1000 < size <= 1500
    assert spent == {"records": 2}


def test_a_modified_window_is_sent_as_modafter_and_modbefore(api: ActOnEmulator, con: Connection) -> None:
    sql = "SELECT count(*) FROM a.List_Newsletter WHERE Modified >= TIMESTAMPTZ '2024-09-01 20:00:00+00'"
    rows, spent = calls(api, con, sql)
    stamp = 1_725_220_800_000
    expected = sum(1 for r in api.account.lists["l-0001"].records.values() if r.modified_ms >= stamp)
    assert rows == [(expected,)] and 0 < expected < 1500
    assert spent == {"records": 1}


def test_e_mails_and_ids_are_looked_up_when_no_date_is_read(api: ActOnEmulator, con: Connection) -> None:
    rows, spent = calls(
        api, con, "SELECT ContactId FROM a.List_Newsletter WHERE \"E-mail Address\" = 'MARY.1@example.com'"
    )
    assert rows == [] and spent == {"lookup": 1}  # Act-On matched it regardless of case; DuckDB did not
    rows, spent = calls(
        api, con, "SELECT \"First Name\" FROM a.List_Newsletter WHERE ContactId IN ('l-0001:1', 'l-0001:2')"
    )
    assert sorted(rows) == [("Mary",), ("Robert",)] and spent == {"record": 2}
    rows, spent = calls(api, con, "SELECT Modified FROM a.List_Newsletter WHERE ContactId = 'l-0001:1'")
    assert len(rows) == 1 and spent == {"records": 2}  # the single-record reply has no dates
    rows, spent = calls(api, con, "SELECT count(*) FROM a.List_Newsletter WHERE Created IS NULL")
    assert rows == [(0,)] and spent == {}


def test_message_types_are_requested_one_by_one(api: ActOnEmulator, con: Connection) -> None:
    rows, spent = calls(api, con, "SELECT DISTINCT MsgType FROM a.Messages WHERE MsgType IN ('SENT', 'FAILED', 'sent')")
    assert sorted(rows) == [("FAILED",), ("SENT",)] and spent == {"messages": 2}
    rows, spent = calls(api, con, "SELECT count(*) FROM a.Messages")
    assert rows == [(len(api.account.messages),)] and spent == {"messages": 6}


def test_an_image_id_is_fetched_alone_unless_its_size_in_pixels_is_read(api: ActOnEmulator, con: Connection) -> None:
    image = next(iter(api.account.images.values()))
    rows, spent = calls(api, con, f"SELECT Name, FolderName FROM a.Images WHERE Id = '{image.id}'")
    assert rows == [(image.name, image.folder)] and spent == {"image": 1}
    rows, spent = calls(api, con, f"SELECT Width FROM a.Images WHERE Id = '{image.id}'")
    assert rows == [(image.width,)] and spent == {"images": 1}


def test_a_new_list_becomes_a_table(api: ActOnEmulator, con: Connection) -> None:
    con.execute("INSERT INTO a.Lists (Name, Headers) VALUES ('Spring Event 2025', 'Name;E-mail Address;Ticket')")
    assert con.rowcount == 1
    con.execute(
        'INSERT INTO a."List_Spring_Event_2025" ("E-mail Address", "Ticket") VALUES (?, ?), (?, ?)',
        ["ann@example.com", "A1", "bo@example.com", "B2"],
    )
    assert con.rowcount == 2
    # INSERT upserts by e-mail: the same address again changes the record it made.
    con.execute(
        'INSERT INTO a."List_Spring_Event_2025" ("E-mail Address", "Ticket") VALUES (?, ?)', ["ANN@example.com", "A9"]
    )
    rows = con.execute('SELECT "E-mail Address", Ticket FROM a."List_Spring_Event_2025" ORDER BY Ticket').fetchall()
    assert rows == [("ANN@example.com", "A9"), ("bo@example.com", "B2")]
    con.execute('DELETE FROM a."List_Spring_Event_2025" WHERE Ticket = ?', ["B2"])
    assert con.rowcount == 1


def test_records_that_keep_moving_fail_the_scan_clearly(sandbox: Sandbox, api: ActOnEmulator) -> None:
    with federation.connect({"a": {**sandbox.properties("acton"), "PageSize": "200", "scheme": "acton"}}) as con:
        con.execute("SELECT count(*) FROM a.List_Newsletter WHERE ContactId = 'l-0001:1'").fetchall()

        def shift() -> None:
            api.mutate("List_Newsletter", delete=1)

        for n in range(1, 40):  # after every page (pages are fetched several at once), a record goes
            api.after("records", n, shift)
        with pytest.raises(OperationalError, match="kept changing while they were read"):
            con.execute("SELECT ContactId FROM a.List_Newsletter").fetchall()
        api.clear_faults()


def test_settings() -> None:
    eu = ActOnConnector({"InitiateOAuth": "GETANDREFRESH", "OAuthClientId": "x", "Region": "eu"})
    assert eu.http is not None and eu.http.limiter is not None
    assert eu.http.limiter.key == ("acton", "api-eu.actonsoftware.com", "x")
    assert eu.acton.callback_url == "http://localhost:80"  # Act-On's registered default
    with pytest.raises(ConfigurationError, match="PageSize"):
        ActOnConnector({"InitiateOAuth": "GETANDREFRESH", "OAuthClientId": "x", "PageSize": "1001"})
    with pytest.raises(ConfigurationError, match="User and Password together"):
        ActOnConnector({"InitiateOAuth": "GETANDREFRESH", "OAuthClientId": "x", "User": "me"})

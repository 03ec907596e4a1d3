"""Writes under injected faults: a 5xx or a dropped connection on one call of several, before or after the API
acted on it. Afterwards the API holds exactly what the statement (or its error) says was written, never twice."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import federation
from federation.connection import Connection
from federation.errors import WriteError
from federation.sandbox import Sandbox

ROWS = 450  # three calls of up to 200 records


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(records=20, sources=["financialforce"]) as running:
        yield running


def connect(sandbox: Sandbox, **extra: str) -> Connection:
    con = federation.connect({"fin": {**sandbox.properties("financialforce"), "scheme": "financialforce", **extra}})
    con.execute("SELECT count(*) FROM fin.Account").fetchall()  # log in and describe before faults are armed
    return con


@pytest.fixture(scope="module")
def con(sandbox: Sandbox) -> Iterator[Connection]:
    with connect(sandbox) as opened:
        yield opened


@pytest.fixture()
def api(sandbox: Sandbox) -> Iterator[Any]:
    server = sandbox.server("financialforce")
    server.reset_counts()
    yield server
    server.clear_faults()


def names(api: Any, prefix: str) -> list[str]:
    """The names of the live Accounts the API holds that start with `prefix`, duplicates included."""
    return sorted(r["Name"] for r in api.store.records("Account") if str(r["Name"]).startswith(prefix))


def insert(con: Connection, prefix: str) -> dict[str, str]:
    """Insert ROWS accounts in one statement; their names → the Ids RETURNING gave."""
    values = ", ".join("(?)" for _ in range(ROWS))
    con.execute(
        f"INSERT INTO fin.Account (Name) VALUES {values} RETURNING Name, Id", [f"{prefix}{i:03}" for i in range(ROWS)]
    )
    return dict(con.fetchall())


@pytest.mark.parametrize(
    ("fault", "created_first"),
    [
        ({"status": 500, "after_processing": True}, True),
        ({"drop": True, "after_processing": True}, True),
        ({"status": 503}, False),
        ({"drop": True}, False),
    ],
    ids=["500-after-create", "drop-after-create", "503-before-create", "drop-before-create"],
)
def test_a_lost_create_is_looked_for_and_never_sent_twice(
    con: Connection, api: Any, fault: dict[str, Any], created_first: bool
) -> None:
    prefix = f"lost {fault.get('status', 'drop')} {created_first} "
    api.inject(kinds={"composite_create"}, skip=1, **fault)  # the second of three calls
    returned = insert(con, prefix)
    assert con.rowcount == ROWS
    assert names(api, prefix) == [f"{prefix}{i:03}" for i in range(ROWS)]
    stored = {r["Name"]: r["Id"] for r in api.store.records("Account") if str(r["Name"]).startswith(prefix)}
    assert returned == stored  # RETURNING gives each row the record the API created for it
    # A create the API acted on is found, not repeated; one it did not act on is sent again, once.
    assert api.calls_by_kind["composite_create"] == 3 + (0 if created_first else 1)


def test_lost_responses_on_two_calls_are_both_settled(con: Connection, api: Any) -> None:
    api.inject(kinds={"composite_create"}, drop=True, after_processing=True, times=2)
    insert(con, "twice ")
    assert names(api, "twice ") == [f"twice {i:03}" for i in range(ROWS)]
    assert api.calls_by_kind["composite_create"] == 3


def test_creates_that_keep_failing_are_reported_as_not_written(sandbox: Sandbox, api: Any) -> None:
    with connect(sandbox, MaxRetries="2") as con:
        api.inject(kinds={"composite_create"}, status=500, times=2, skip=1)
        with pytest.raises(WriteError) as caught:
            insert(con, "never ")
    error = caught.value
    assert (error.written, error.unknown) == (200, 0)
    assert "created 200 of 450 records; rows 201-400 were not created" in str(error)
    assert "rows 401-450 were not sent" in str(error)
    assert names(api, "never ") == [f"never {i:03}" for i in range(200)]


def test_a_create_that_cannot_be_settled_is_reported_as_unknown(con: Connection, api: Any) -> None:
    # Another client creates a record just before ours is lost: the search can't tell it from one of ours.
    session = con.federation.sources["fin"].http.auth.session()  # type: ignore[union-attr]
    httpx.post(
        f"{session.endpoint}/services/data/v59.0/sobjects/Account",
        json={"Name": "someone else's"},
        headers={"Authorization": f"Bearer {session.token}"},
    ).raise_for_status()
    api.inject(kinds={"composite_create"}, drop=True)
    with pytest.raises(WriteError) as caught:
        insert(con, "unsure ")
    error = caught.value
    assert (error.written, error.unknown) == (0, 200)
    assert "rows 1-200 may or may not have been created" in str(error) and "rows 201-450 were not sent" in str(error)
    # The error's account is exact: the lost call did nothing, and nothing after it was sent.
    assert names(api, "unsure ") == []
    assert api.calls_by_kind["composite_create"] == 1


def test_an_update_whose_response_is_lost_is_repeated(con: Connection, api: Any) -> None:
    insert(con, "upd ")
    api.reset_counts()
    api.inject(kinds={"composite_update"}, status=500, after_processing=True, skip=1)
    con.execute("UPDATE fin.Account SET Industry = 'Energy' WHERE Name LIKE 'upd %'")
    assert con.rowcount == ROWS
    assert sum(r["Industry"] == "Energy" for r in api.store.records("Account") if r["Name"].startswith("upd ")) == ROWS
    assert api.calls_by_kind["composite_update"] == 4


def test_an_update_that_keeps_failing_says_its_outcome_is_unknown(sandbox: Sandbox, api: Any) -> None:
    with connect(sandbox, MaxRetries="2") as con:
        insert(con, "stuck ")
        api.inject(kinds={"composite_update"}, status=503, times=2, skip=1)
        with pytest.raises(
            WriteError,
            match=r"the outcome of records 201-400 of the 450 selected is unknown.*repeating the statement is safe",
        ) as caught:
            con.execute("UPDATE fin.Account SET Industry = 'Retail' WHERE Name LIKE 'stuck %'")
        assert (caught.value.written, caught.value.unknown) == (200, 200)
        retail = [r["Industry"] == "Retail" for r in api.store.records("Account") if r["Name"].startswith("stuck ")]
        assert sum(retail) == 200  # exactly the first call's records, as the error says
        con.execute("UPDATE fin.Account SET Industry = 'Retail' WHERE Name LIKE 'stuck %'")
        assert con.rowcount == ROWS


@pytest.mark.parametrize("after_processing", [True, False], ids=["after-delete", "before-delete"])
def test_a_delete_whose_response_is_lost_counts_what_it_deleted(
    con: Connection, api: Any, after_processing: bool
) -> None:
    prefix = f"del {after_processing} "
    insert(con, prefix)
    api.reset_counts()
    api.inject(kinds={"composite_delete"}, drop=True, after_processing=after_processing, skip=1)
    con.execute(f"DELETE FROM fin.Account WHERE Name LIKE '{prefix}%'")
    # Repeated after the lost response, the call finds its records deleted already; they still count, once.
    assert con.rowcount == ROWS
    assert names(api, prefix) == []
    assert api.calls_by_kind["composite_delete"] == 4

"""INSERT, UPDATE and DELETE through `federation.connect()` (DuckDB's DB-API) against the emulator: batching,
parameters, rowcounts checked against what the API holds, validation before any call, the API's own per-record
errors, and what a rollback can't undo."""

from __future__ import annotations

import datetime
import warnings
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

import federation
from federation.connection import Connection
from federation.errors import (
    DataError,
    IntegrityError,
    IrreversibleWriteWarning,
    NotSupportedError,
    ProgrammingError,
    ReadOnlyError,
    UnknownColumnError,
    WriteError,
)
from federation.sandbox import Sandbox

WRITE_KINDS = ("composite_create", "composite_update", "composite_delete", "create", "update", "delete")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """Emulators of their own: these tests change records that other modules count."""
    with Sandbox(records=50, sources=["financialforce", "certinia"]) as running:
        yield running


@pytest.fixture(scope="module")
def con(sandbox: Sandbox) -> Iterator[Connection]:
    with federation.connect({"fin": sandbox.url("financialforce"), "psa": sandbox.url("certinia")}) as opened:
        opened.execute("SELECT count(*) FROM fin.Account").fetchall()  # log in and describe up front
        yield opened


@pytest.fixture()
def api(sandbox: Sandbox) -> Any:
    server = sandbox.server("financialforce")
    server.reset_counts()
    return server


def held(api: Any, obj: str, prefix: str) -> list[dict[str, Any]]:
    """The live records the API holds whose name starts with `prefix` (read from the emulator's store)."""
    field = "LastName" if obj == "Contact" else "Name"
    return [r for r in api.store.records(obj) if str(r.get(field) or "").startswith(prefix)]


def writes(api: Any) -> Counter[str]:
    return Counter({kind: n for kind, n in api.calls_by_kind.items() if kind in WRITE_KINDS})


def test_insert_returns_the_keys_the_api_assigned(con: Connection, api: Any) -> None:
    con.execute(
        "INSERT INTO fin.Account (Name, Industry) VALUES (?, ?), (?, ?) RETURNING Id, Name",
        ["r1", "Banking", "r2", None],
    )
    returned = con.fetchall()
    assert [d[0] for d in con.description] == ["Id", "Name"]
    stored = {r["Id"]: r for r in held(api, "Account", "r")}
    assert [(stored[i]["Name"], stored[i]["Industry"]) for i, _ in returned] == [("r1", "Banking"), ("r2", None)]
    assert [name for _, name in returned] == ["r1", "r2"] and con.rowcount == 2
    assert writes(api) == {"composite_create": 1}


def test_insert_without_returning_answers_like_duckdb_dml(con: Connection, api: Any) -> None:
    con.execute("INSERT INTO fin.Account (Name) VALUES ('plain')")
    assert con.fetchall() == [(1,)] and con.rowcount == 1
    assert len(held(api, "Account", "plain")) == 1


@pytest.mark.parametrize(
    ("sql", "parameters"),
    [
        (
            "INSERT INTO fin.Account (Name, AnnualRevenue, Customer_Since__c) VALUES (?, ?, ?)",
            ["qmark", 1500, "2024-02-03"],
        ),
        (
            "INSERT INTO fin.Account (Name, AnnualRevenue, Customer_Since__c) VALUES ($1, $2, $3)",
            ["numeric", Decimal("1500"), datetime.date(2024, 2, 3)],
        ),
        (
            "INSERT INTO fin.Account (Name, AnnualRevenue, Customer_Since__c) VALUES ($n, $r, $d)",
            {"n": "named", "r": "1500", "d": "2024-02-03"},
        ),
    ],
)
def test_parameters_bind_and_cast_in_every_paramstyle(con: Connection, api: Any, sql: str, parameters: Any) -> None:
    con.execute(sql, parameters)
    name = parameters["n"] if isinstance(parameters, dict) else parameters[0]
    [record] = held(api, "Account", name)
    assert (record["AnnualRevenue"], record["Customer_Since__c"]) == (1500, "2024-02-03")
    # The API derives its formula fields from what was written.
    assert record["Account_Tier__c"] == "SMB"


def test_a_thousand_rows_cost_five_calls(con: Connection, api: Any) -> None:
    con.executemany(
        "INSERT INTO fin.Account (Name, NumberOfEmployees) VALUES (?, ?)", [(f"k{i:04}", i) for i in range(1000)]
    )
    assert con.rowcount == 1000
    assert writes(api) == {"composite_create": 5}
    stored = held(api, "Account", "k")
    assert sorted((r["Name"], r["NumberOfEmployees"]) for r in stored) == [(f"k{i:04}", i) for i in range(1000)]


def test_insert_select_reads_another_source(con: Connection, api: Any) -> None:
    projects = con.execute("SELECT Name FROM psa.pse__Proj__c ORDER BY Name LIMIT 7").fetchall()
    con.execute(
        "INSERT INTO fin.Account (Name, Industry) "
        "SELECT 'copy ' || Name, 'Energy' FROM psa.pse__Proj__c ORDER BY Name LIMIT 7"
    )
    assert con.rowcount == 7
    assert sorted(r["Name"] for r in held(api, "Account", "copy ")) == sorted(f"copy {n}" for (n,) in projects)
    assert {r["Industry"] for r in held(api, "Account", "copy ")} == {"Energy"}


def test_certinia_projects_are_written_like_any_object(con: Connection, sandbox: Sandbox) -> None:
    psa = sandbox.server("certinia")
    [(account,)] = con.execute("SELECT Id FROM psa.Account ORDER BY Name LIMIT 1").fetchall()
    con.execute(
        "INSERT INTO psa.pse__Proj__c "
        "(Name, pse__Account__c, pse__Start_Date__c, pse__Billings__c, pse__Is_Billable__c) "
        "VALUES ('psa project', ?, DATE '2025-01-06', 1234.5, true)",
        [account],
    )
    con.execute("UPDATE psa.pse__Proj__c SET pse__Billings__c = pse__Billings__c * 2 WHERE Name = 'psa project'")
    assert con.rowcount == 1
    [record] = [r for r in psa.store.records("pse__Proj__c") if r["Name"] == "psa project"]
    assert (record["pse__Account__c"], record["pse__Start_Date__c"]) == (account, "2025-01-06")
    assert (record["pse__Billings__c"], record["pse__Is_Billable__c"], record["pse__Stage__c"]) == (
        2469,
        True,
        "Planned",
    )
    con.execute("DELETE FROM psa.pse__Proj__c WHERE Name = 'psa project'")
    assert con.rowcount == 1 and not [r for r in psa.store.records("pse__Proj__c") if r["Name"] == "psa project"]


def test_insert_by_name_takes_the_columns_of_its_query(con: Connection, api: Any) -> None:
    con.execute("INSERT INTO fin.Account BY NAME SELECT 'byname' AS Name, 42 AS NumberOfEmployees")
    assert [r["NumberOfEmployees"] for r in held(api, "Account", "byname")] == [42]


def test_update_by_where_counts_exactly_what_the_api_changed(con: Connection, api: Any) -> None:
    con.executemany(
        "INSERT INTO fin.Account (Name, NumberOfEmployees) VALUES (?, ?)", [(f"u{i:03}", i) for i in range(500)]
    )
    api.reset_counts()
    # DuckDB evaluates the WHERE clause (SOQL's LIKE ignores case, so it stays local): one scan finds the keys.
    con.execute(
        "UPDATE fin.Account SET Industry = 'Retail', NumberOfEmployees = NumberOfEmployees * 2 "
        "WHERE Name LIKE 'u%' AND NumberOfEmployees % 2 = 0"
    )
    changed = [r for r in held(api, "Account", "u") if r["Industry"] == "Retail"]
    assert con.rowcount == len(changed) == 250
    assert all(int(r["Name"][1:]) * 2 == r["NumberOfEmployees"] for r in changed)
    assert writes(api) == {"composite_update": 2} and api.calls_by_kind["query"] == 1


def test_update_with_a_subquery_sets_values_computed_from_each_row(con: Connection, api: Any) -> None:
    con.execute("INSERT INTO fin.Account (Name) VALUES ('sub one'), ('sub two'), ('other')")
    con.execute(
        "UPDATE fin.Account SET Description = upper(Name) || '!' "
        "WHERE Id IN (SELECT Id FROM fin.Account WHERE Name LIKE 'sub %') RETURNING Name, Description"
    )
    assert sorted(con.fetchall()) == [("sub one", "SUB ONE!"), ("sub two", "SUB TWO!")]
    assert sorted(r["Description"] for r in held(api, "Account", "sub")) == ["SUB ONE!", "SUB TWO!"]
    assert [r["Description"] for r in held(api, "Account", "other")] == [None]


def test_update_returning_shows_what_the_api_derived(con: Connection, api: Any) -> None:
    con.execute("INSERT INTO fin.Account (Name) VALUES ('tier')")
    con.execute(
        "UPDATE fin.Account SET AnnualRevenue = 60000000 WHERE Name = 'tier' RETURNING AnnualRevenue, Account_Tier__c"
    )
    assert con.fetchall() == [(Decimal("60000000"), "Mid-Market")]
    assert held(api, "Account", "tier")[0]["Account_Tier__c"] == "Mid-Market"


def test_update_that_matches_nothing_writes_nothing(con: Connection, api: Any) -> None:
    con.execute("UPDATE fin.Account SET Industry = 'Retail' WHERE Name = 'no such account'")
    assert con.rowcount == 0 and con.fetchall() == [(0,)]
    assert writes(api) == {}


def test_delete_by_where_removes_exactly_what_it_counts(con: Connection, api: Any) -> None:
    con.executemany("INSERT INTO fin.Account (Name) VALUES (?)", [(f"d{i:03}",) for i in range(450)])
    api.reset_counts()
    con.execute("DELETE FROM fin.Account WHERE Name LIKE 'd%' AND Name < 'd300' RETURNING Name")
    deleted = sorted(name for (name,) in con.fetchall())
    assert deleted == [f"d{i:03}" for i in range(300)] and con.rowcount == 300
    assert sorted(r["Name"] for r in held(api, "Account", "d")) == [f"d{i:03}" for i in range(300, 450)]
    assert writes(api) == {"composite_delete": 2}


def test_contacts_write_dates_times_and_lookups(con: Connection, api: Any) -> None:
    [(account,)] = con.execute("INSERT INTO fin.Account (Name) VALUES ('parent') RETURNING Id").fetchall()
    con.execute(
        "INSERT INTO fin.Contact (LastName, AccountId, Birthdate, Preferred_Call_Time__c) VALUES (?, ?, ?, ?)",
        ["typed", account, datetime.date(1990, 5, 17), datetime.time(9, 30, 15, 250000)],
    )
    [record] = held(api, "Contact", "typed")
    assert (record["AccountId"], record["Birthdate"], record["Preferred_Call_Time__c"]) == (
        account,
        "1990-05-17",
        "09:30:15.250Z",
    )


@pytest.mark.parametrize(
    ("sql", "error", "message"),
    [
        ("INSERT INTO fin.Account (Nme) VALUES ('x')", UnknownColumnError, "table 'Account' has no column 'Nme'"),
        ("INSERT INTO fin.Account (Name, Id) VALUES ('x', 'y')", ReadOnlyError, "column Id of 'Account' can't be set"),
        ("INSERT INTO fin.Account (Name, Account_Tier__c) VALUES ('x', 'y')", ReadOnlyError, "Account_Tier__c"),
        (
            "UPDATE fin.Account SET CreatedDate = now()",
            ReadOnlyError,
            "column CreatedDate of 'Account' can't be updated",
        ),
        ("INSERT INTO fin.Account (Industry) VALUES ('Energy')", IntegrityError, "must set Name"),
        ("INSERT INTO fin.Account (Name) VALUES ('x'), (NULL)", IntegrityError, "'Name' can't be null (row 2)"),
        (
            "INSERT INTO fin.Account (Name, NumberOfEmployees) VALUES ('x', 1), ('y', 'many')",
            DataError,
            "'many' in row 2 does not fit column 'NumberOfEmployees'",
        ),
        (
            "INSERT INTO fin.Account (Name, Customer_Since__c) VALUES ('x', 'soon')",
            DataError,
            "column 'Customer_Since__c'",
        ),
        ("INSERT INTO fin.Account VALUES ('x')", ProgrammingError, "needs a column list"),
        ("INSERT INTO fin.Account (Name, Name) VALUES ('x', 'y')", ProgrammingError, "Name is given more than once"),
        ("INSERT INTO fin.Account (Name) SELECT 'x', 1", ProgrammingError, "names 1 columns but its query gives 2"),
        ("INSERT INTO fin.Account (Name) VALUES ('x'); SELECT 1", NotSupportedError, "statement of its own"),
        ("DELETE FROM fin.c2g__codaTransaction__c", ReadOnlyError, "'c2g__codaTransaction__c' is read-only"),
        ("INSERT INTO fin.c2g__codaTransaction__c (Name) VALUES ('x')", ReadOnlyError, "does not allow INSERT"),
        ("INSERT INTO fin.User (LastName) VALUES ('x')", ReadOnlyError, "'User' is read-only"),
    ],
)
def test_statements_the_metadata_rules_out_fail_before_any_write(
    con: Connection, api: Any, sql: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        con.execute(sql)
    assert writes(api) == {} and api.calls_by_kind["query"] == 0


def test_executemany_names_the_row_whose_value_does_not_fit(con: Connection, api: Any) -> None:
    # Parameters of mixed types in one column: DuckDB evaluates each set, and the cast names the row.
    with pytest.raises(DataError, match=r"'many' in row 3 does not fit column 'NumberOfEmployees'"):
        con.executemany(
            "INSERT INTO fin.Account (Name, NumberOfEmployees) VALUES (?, ?)", [("a", 1), ("b", "2"), ("c", "many")]
        )
    assert writes(api) == {}


def test_a_required_value_set_to_null_fails_before_any_write(con: Connection, api: Any) -> None:
    with pytest.raises(IntegrityError, match=r"'Name' can't be null \(record 001"):
        con.execute("UPDATE fin.Account SET Name = NULL WHERE Name = 'plain'")
    assert writes(api) == {}
    assert len(held(api, "Account", "plain")) == 1


def test_the_apis_record_errors_say_what_was_written(con: Connection, api: Any) -> None:
    rows = [(f"e{i:03}", f"e{i}@example.com") for i in range(450)]
    rows[299] = ("e299", "not an email")
    with pytest.raises(WriteError) as caught:
        con.executemany("INSERT INTO fin.Contact (LastName, Email) VALUES (?, ?)", rows)
    error = caught.value
    # AllOrNone (the default): the first call was written, the second refused as a whole, the third not sent.
    assert error.written == 200 and len(error.keys) == 200
    assert [(f.position, f.code, f.fields) for f in error.failures] == [(299, "INVALID_EMAIL_ADDRESS", ("Email",))]
    assert "created 200 of 450 records" in str(error) and "rows 201-400" in str(error)
    assert "rows 401-450 were not sent" in str(error) and "row 300: INVALID_EMAIL_ADDRESS" in str(error)
    assert sorted(r["Id"] for r in held(api, "Contact", "e")) == sorted(error.keys)
    assert writes(api) == {"composite_create": 2}


def test_partial_success_writes_every_record_the_api_accepts(sandbox: Sandbox, api: Any) -> None:
    props = {**sandbox.properties("financialforce"), "AllOrNone": "false", "scheme": "financialforce"}
    rows = [(f"p{i:03}", f"p{i}@example.com") for i in range(450)]
    rows[5] = ("p005", "bad")
    rows[333] = ("p333", "worse")
    with federation.connect({"fin": props}) as partial, pytest.raises(WriteError) as caught:
        partial.executemany("INSERT INTO fin.Contact (LastName, Email) VALUES (?, ?)", rows)
    error = caught.value
    assert error.written == 448 and [f.position for f in error.failures] == [5, 333]
    assert "created 448 of 450 records" in str(error) and "row 334: INVALID_EMAIL_ADDRESS" in str(error)
    stored = sorted(r["LastName"] for r in held(api, "Contact", "p"))
    assert stored == sorted(name for name, _ in rows if name not in ("p005", "p333"))


def test_an_update_the_api_refuses_leaves_the_records_as_they_were(con: Connection, api: Any) -> None:
    con.execute("INSERT INTO fin.Contact (LastName, Email) VALUES ('keep', 'keep@example.com')")
    with pytest.raises(WriteError, match=r"updated 0 of 1 records.*row 1: INVALID_EMAIL_ADDRESS: record 003") as caught:
        con.execute("UPDATE fin.Contact SET Email = 'broken' WHERE LastName = 'keep'")
    assert caught.value.written == 0
    assert [r["Email"] for r in held(api, "Contact", "keep")] == ["keep@example.com"]


def test_rollback_says_what_it_could_not_undo(con: Connection, api: Any) -> None:
    con.begin()
    con.execute("INSERT INTO fin.Account (Name) VALUES ('rolled 1'), ('rolled 2')")
    with pytest.warns(IrreversibleWriteWarning, match="can't undo the 2 records written to fin"):
        con.rollback()
    assert len(held(api, "Account", "rolled")) == 2
    con.begin()
    con.execute("INSERT INTO fin.Account (Name) VALUES ('committed')")
    con.commit()
    con.begin()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        con.rollback()  # nothing was written since this transaction began


def test_duckdb_tables_are_still_written_by_duckdb(con: Connection, api: Any) -> None:
    con.execute("CREATE TEMP TABLE scratch (Name VARCHAR)")
    con.execute("INSERT INTO scratch SELECT Name FROM fin.Account WHERE Name LIKE 'k00%'")
    assert con.rowcount == 100
    con.execute("DELETE FROM scratch WHERE Name > 'k0049'")
    assert con.rowcount == 50
    assert writes(api) == {}


def test_sql_runs_a_write_and_returns_its_result_as_a_relation(con: Connection, api: Any) -> None:
    inserted = con.sql("INSERT INTO fin.Account (Name) VALUES ('by sql one'), ('by sql two') RETURNING Name, Id")
    rows = dict(inserted.fetchall())
    assert set(rows) == {"by sql one", "by sql two"} and con.rowcount == 2
    assert con.sql("UPDATE fin.Account SET Industry = 'Energy' WHERE Name LIKE 'by sql %'").fetchall() == [(2,)]
    held = {r["Name"]: r for r in api.store.records("Account") if str(r["Name"]).startswith("by sql ")}
    assert {name: r["Id"] for name, r in held.items()} == rows
    assert {r["Industry"] for r in held.values()} == {"Energy"}


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE fin.Account SET Rating = 'Hot'",
        "DELETE FROM fin.Account",
        "DELETE FROM fin.Account WHERE 1 = 1",
        "UPDATE fin.Account SET Rating = 'Hot' WHERE Name = 'x' OR TRUE",
        "DELETE FROM fin.Account a USING fin.Contact c",
    ],
)
def test_a_write_to_every_record_needs_the_property_that_allows_it(con: Connection, api: Any, sql: str) -> None:
    with pytest.raises(ProgrammingError, match="set the connection property AllowUnscopedWrites=true"):
        con.execute(sql)
    assert writes(api) == {} and api.calls_by_kind["query"] == 0


def test_allow_unscoped_writes_lets_a_write_reach_every_record() -> None:
    with Sandbox(records=5, sources=["certinia"]) as sandbox:
        props = {**sandbox.properties("certinia"), "AllowUnscopedWrites": "true", "scheme": "certinia"}
        with federation.connect({"psa": props}) as allowed:
            allowed.execute("UPDATE psa.pse__Proj__c SET pse__Is_Billable__c = false")
            assert allowed.rowcount == 5
            allowed.execute("DELETE FROM psa.pse__Proj__c WHERE true")
            assert allowed.rowcount == 5
        assert sandbox.server("certinia").store.records("pse__Proj__c") == []


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "INSERT INTO fin.Account (Name, Customer_Since__c) VALUES ('far', DATE '99999-01-01')",
            r"value '99999-01-01' in row 1 does not fit column 'Customer_Since__c' \(date32\[day\]\): "
            "the API takes years 1 to 9999",
        ),
        (
            "INSERT INTO fin.Account (Name, Customer_Since__c) SELECT 'far', DATE '99999-01-01'",
            r"value '99999-01-01' in row 1 does not fit column 'Customer_Since__c'",
        ),
        (
            "UPDATE fin.Account SET Customer_Since__c = DATE '-0044-03-15' WHERE Name = 'plain'",
            r"value '0045-03-15 \(BC\)' in row 1 does not fit column 'Customer_Since__c'",
        ),
    ],
)
def test_a_date_outside_the_apis_years_is_refused_naming_its_column(
    con: Connection, api: Any, sql: str, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        con.execute(sql)
    assert writes(api) == {}


def test_a_filter_on_a_date_outside_the_apis_years_stays_in_duckdb(con: Connection) -> None:
    far = con.execute("SELECT count(*) FROM fin.Account WHERE Customer_Since__c < DATE '99999-01-01'").fetchone()
    assert far == con.execute("SELECT count(*) FROM fin.Account WHERE Customer_Since__c IS NOT NULL").fetchone()

"""psycopg 3 against `duckfed serve`: the extended protocol with parameters, text and binary results with their
PostgreSQL types, pandas.read_sql, transactions, writes, cancel requests and several clients at once."""

from __future__ import annotations

import datetime
import decimal
import subprocess
import sys
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import psycopg
import pytest

from federation.connection import Connection
from tests.serve.conftest import Served


def connect(served: Served, **options: object) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(served.dsn(), autocommit=True, **options)  # type: ignore[arg-type]


def test_parameters_go_through_the_extended_protocol(served: Served, local: Connection) -> None:
    query = (
        'SELECT "Id", "AnnualRevenue", "CreatedDate" FROM fin."Account" '
        'WHERE "Industry" = %s AND "NumberOfEmployees" > %s'
    )
    with connect(served) as con:
        got = con.execute(query, ["Banking", 100]).fetchall()
    expected = local.execute(query.replace("%s", "?"), ["Banking", 100]).fetchall()
    assert sorted(got) == sorted(expected)
    assert got and isinstance(got[0][1], decimal.Decimal) and got[0][2].tzinfo is not None


@pytest.mark.parametrize("binary", [False, True])
def test_every_type_arrives_typed_in_text_and_binary(served: Served, binary: bool) -> None:
    query = (
        "SELECT 1::SMALLINT AS i2, -2::INTEGER AS i4, 3000000000::BIGINT AS i8, 1.5::DOUBLE AS f8, "
        "-0.00000001::DECIMAL(28,8) AS tiny, 80474.85::DECIMAL(18,2) AS money, 'x''y ü' AS txt, true AS yes, "
        "DATE '2024-02-29' AS day, TIMESTAMP '1999-12-31 23:59:59.5' AS ts, "
        "TIMESTAMPTZ '2024-01-01 12:34:56+00' AS tstz, "
        "TIME '12:34:56' AS t, '\\xAA\\x00'::BLOB AS bytes, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID AS id, "
        "'{\"a\": [1, 2]}'::JSON AS doc, NULL::INTEGER AS nothing, 'Infinity'::DOUBLE AS inf"
    )
    with connect(served) as con, con.cursor(binary=binary) as cursor:
        row = cursor.execute(query).fetchone()
        types = [column.type_code for column in cursor.description or ()]
    assert row == (
        1,
        -2,
        3000000000,
        1.5,
        decimal.Decimal("-0.00000001"),
        decimal.Decimal("80474.85"),
        "x'y ü",
        True,
        datetime.date(2024, 2, 29),
        datetime.datetime(1999, 12, 31, 23, 59, 59, 500000),
        datetime.datetime(2024, 1, 1, 12, 34, 56, tzinfo=datetime.UTC),
        datetime.time(12, 34, 56),
        b"\xaa\x00",
        uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        {"a": [1, 2]},
        None,
        float("inf"),
    )
    assert types == [21, 23, 20, 701, 1700, 1700, 25, 16, 1082, 1114, 1184, 1083, 17, 2950, 114, 23, 701]


def test_pandas_read_sql_over_psycopg(served: Served, local: Connection) -> None:
    query = (
        'SELECT "Industry", count(*) AS n, sum("AnnualRevenue") AS revenue FROM fin."Account" '
        "GROUP BY 1 ORDER BY 2 DESC, 1"
    )
    with connect(served) as con, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pandas prefers SQLAlchemy connectables; DB-API ones work
        frame = pd.read_sql(query, con)
    expected = local.execute(query).df()
    assert frame["n"].tolist() == expected["n"].tolist()
    assert frame["Industry"].fillna("").tolist() == expected["Industry"].fillna("").tolist()


def test_a_transaction_of_writes_with_parameters(served: Served) -> None:
    store = served.sandbox.server("template").store
    with psycopg.connect(served.dsn()) as con:  # psycopg opens a transaction (BEGIN) itself
        cursor = con.cursor()
        cursor.executemany(
            "INSERT INTO tpl.contacts (name, city) VALUES (%s, %s)", [("Param One", "Ghent"), ("Param Two", "Liège")]
        )
        cursor.execute("UPDATE tpl.contacts SET city = %s WHERE name = %s", ["Namur", "Param Two"])
        assert cursor.rowcount == 1
        con.commit()
    held = {r["name"]: r["city"] for r in store.tables["contacts"].values() if str(r["name"]).startswith("Param ")}
    assert held == {"Param One": "Ghent", "Param Two": "Namur"}
    with connect(served) as con:
        assert con.execute("DELETE FROM tpl.contacts WHERE name LIKE %s", ["Param %"]).rowcount == 2


def test_a_rollback_after_writes_warns_that_they_stay(served: Served) -> None:
    notices: list[str] = []
    with psycopg.connect(served.dsn()) as con:
        con.add_notice_handler(lambda diagnostic: notices.append(str(diagnostic.message_primary)))
        con.execute("INSERT INTO tpl.contacts (name) VALUES ('Kept Anyway')")
        con.rollback()
        assert con.execute("SELECT count(*) FROM tpl.contacts WHERE name = 'Kept Anyway'").fetchone() == (1,)
        con.execute("DELETE FROM tpl.contacts WHERE name = 'Kept Anyway'")
        con.commit()
    assert notices and "can't undo the 1 records written" in notices[0]


def test_errors_carry_a_sqlstate_and_duckfeds_message(served: Served) -> None:
    with connect(served) as con:
        with pytest.raises(
            psycopg.errors.UndefinedTable, match="source 'fin' has no table 'Acount'; did you mean Account"
        ):
            con.execute('SELECT * FROM fin."Acount"')
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="SET is not allowed"):
            con.execute("SET threads = 1")
        with pytest.raises(psycopg.errors.UndefinedColumn):
            con.execute('SELECT "Nope" FROM fin."Account"')
        assert con.execute("SELECT 1 + %s", [1]).fetchone() == (2,)  # the session goes on


def test_an_error_in_a_transaction_aborts_it_until_rollback(served: Served) -> None:
    with psycopg.connect(served.dsn()) as con:
        with pytest.raises(psycopg.errors.UndefinedTable):
            con.execute("SELECT * FROM fin.nothing")
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            con.execute("SELECT 1")
        con.rollback()
        assert con.execute("SELECT 2").fetchone() == (2,)


#: A client in its own process: libpq's PQcancel blocks holding the GIL, so it can't share a process with the server.
CANCELLING_CLIENT = """
import sys, threading, time, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as con:
    con.execute("SELECT count(*) FROM tpl.companies").fetchone()
    print("ready", flush=True)
    sys.stdin.readline()
    threading.Timer(0.5, con.cancel).start()
    started = time.monotonic()
    try:
        con.execute("SELECT * FROM tpl.companies").fetchall()
        print("not cancelled")
    except psycopg.errors.QueryCanceled as error:
        print(f"cancelled after {time.monotonic() - started:.1f} s: {error}")
    print("next:", con.execute("SELECT count(*) FROM tpl.companies").fetchone()[0])
"""


def test_a_cancel_request_interrupts_a_running_statement(served: Served) -> None:
    emulator = served.sandbox.server("template")
    client = subprocess.Popen(
        [sys.executable, "-c", CANCELLING_CLIENT, served.dsn()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert client.stdin is not None and client.stdout is not None
    try:
        assert client.stdout.readline() == "ready\n"  # described and counted before the API slows down
        emulator.latency = 10.0
        client.stdin.write("go\n")
        client.stdin.flush()
        cancelled = client.stdout.readline()
        emulator.latency = 0.0
        assert cancelled.startswith("cancelled after "), cancelled
        assert "canceling statement: canceled on the client's request" in cancelled
        assert float(cancelled.split()[2]) < 5
        assert client.stdout.readline() == "next: 30\n"  # the session goes on
    finally:
        emulator.latency = 0.0
        client.kill()
        client.wait()


def test_several_clients_at_once(served: Served, local: Connection) -> None:
    queries = [
        'SELECT count(*) FROM fin."Account"',
        'SELECT count(*) FROM fin."Contact" WHERE "Birthdate" IS NOT NULL',
        "SELECT count(*) FROM tpl.contacts WHERE active",
        "SELECT sum(score) FROM tpl.contacts",
    ] * 2

    def run(query: str) -> object:
        with connect(served) as con:
            row = con.execute(query).fetchone()
            return row[0] if row else None

    with ThreadPoolExecutor(len(queries)) as pool:
        got = list(pool.map(run, queries))
    assert got == [local.execute(q.replace('"', "")).fetchone()[0] for q in queries]  # type: ignore[index]


def test_rows_stream_in_batches_through_a_named_cursor(served: Served, local: Connection) -> None:
    with psycopg.connect(served.dsn()) as con, con.cursor() as cursor:
        cursor.execute("SELECT id FROM tpl.contacts ORDER BY id")
        first = cursor.fetchmany(7)
        rest = cursor.fetchall()
    assert [r[0] for r in first + rest] == [
        r[0] for r in local.execute("SELECT id FROM tpl.contacts ORDER BY id").fetchall()
    ]

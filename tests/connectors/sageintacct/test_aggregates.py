"""Aggregates pushed to `query` (`<count>`, `<sum>`, `<min>`, `<max>` grouped by the other fields): one call where
the gateway computes exactly DuckDB's answer, DuckDB's own rows always (compared with `Pushdown=false`), and a
scan where it can't (text groups, wall-clock timestamps outside UTC, a WHERE it can't state exactly)."""

from __future__ import annotations

import decimal
import zoneinfo
from collections import Counter
from collections.abc import Iterator

import pyarrow as pa
import pytest

import federation
from connectors.sageintacct.aggregates import compile_aggregate, read_aggregate
from federation.connection import Connection
from federation.predicates import Comparison, Operator
from federation.sandbox import Sandbox
from federation.table import Aggregate, AggregateCall, AggregateRequest, Column, TableInfo

Rows = list[tuple[object, ...]]
RECORDS = 600
UTC = zoneinfo.ZoneInfo("UTC")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(records=RECORDS, sources=["sageintacct"]) as running:
        yield running


@pytest.fixture(scope="module")
def con(sandbox: Sandbox) -> Iterator[Connection]:
    props = {**sandbox.properties("sageintacct"), "scheme": "sageintacct"}
    zoned = {**props, "TimeZone": "America/New_York"}
    sources = {
        "sage": props,
        "ref": {**props, "Pushdown": "false"},
        "ny": zoned,
        "nyref": {**zoned, "Pushdown": "false"},
    }
    with federation.connect(sources) as connection:
        for name in sources:
            connection.execute(f"SELECT 1 FROM {name}.Customer LIMIT 1").fetchall()  # log in, read the fields
        yield connection


def both(con: Connection, sql: str) -> tuple[Rows, Rows]:
    reference = sql.replace("sage.", "ref.").replace("ny.", "nyref.")
    return con.execute(sql).fetchall(), con.execute(reference).fetchall()


def spent(sandbox: Sandbox, con: Connection, sql: str) -> int:
    before = sandbox.calls("sageintacct")
    con.execute(sql).fetchall()
    return sandbox.calls("sageintacct") - before


PUSHED = [
    "SELECT count(*) FROM sage.Customer WHERE Creditlimit > 1000",
    "SELECT count(*) FROM sage.Customer WHERE Status = 'active' AND Onhold = false",
    "SELECT count(*), count(Creditlimit), sum(Creditlimit), sum(Recordno), avg(Recordno), min(Lastinvoicedate), "
    "max(Totaldue), min(Whencreated), max(Whenmodified) FROM sage.Customer",
    "SELECT Onhold, count(*), count(Lastinvoicedate), sum(Totaldue), min(Creditlimit) FROM sage.Customer GROUP BY 1",
    "SELECT Lastinvoicedate, Onetime, count(*) FROM sage.Customer WHERE Creditlimit IS NOT NULL GROUP BY 1, 2",
    "SELECT count(*), sum(Creditlimit), max(Lastinvoicedate) FROM sage.Customer WHERE Creditlimit < 0",  # one row
    "SELECT Onhold, count(*) FROM sage.Customer WHERE Creditlimit < 0 GROUP BY 1",  # no groups
    "SELECT Lastinvoicedate, count(*) n FROM sage.Customer GROUP BY 1 HAVING count(*) > 1 ORDER BY n DESC, 1 LIMIT 3",
    "SELECT Whencreated, count(*) FROM sage.Customer GROUP BY 1",
]


@pytest.mark.parametrize("sql", PUSHED)
def test_pushed_aggregates_give_duckdbs_rows_in_one_call(sandbox: Sandbox, con: Connection, sql: str) -> None:
    assert "__duckfed_agg" in con._planner.plan(sql).sql
    pushed, reference = both(con, sql)
    assert Counter(pushed) == Counter(reference)
    assert pushed or "GROUP BY" in sql  # only groups can be none at all
    assert spent(sandbox, con, sql) == 1


SCANNED = [
    # Text groups and text MIN/MAX: the gateway's collation is undocumented.
    "SELECT Status, count(*) FROM sage.Customer GROUP BY Status",
    "SELECT max(Name) FROM sage.Customer",
    # A WHERE the filter XML can't state exactly: the gateway keeps whole seconds.
    "SELECT count(*) FROM sage.Customer WHERE Whencreated > TIMESTAMPTZ '2021-03-04 05:06:07.5+00'",
    # Wall-clock timestamps in a zone with daylight saving: the gateway's order and groups aren't DuckDB's.
    "SELECT min(Whencreated), max(Whenmodified) FROM ny.Customer",
    "SELECT Whencreated, count(*) FROM ny.Customer GROUP BY 1",
]


@pytest.mark.parametrize("sql", SCANNED)
def test_what_the_gateway_cant_compute_exactly_is_a_scan(sandbox: Sandbox, con: Connection, sql: str) -> None:
    pushed, reference = both(con, sql)
    assert pushed and Counter(pushed) == Counter(reference)
    assert spent(sandbox, con, sql) == 1  # one page of records, and no aggregate call before it


def test_explain_shows_the_query(sandbox: Sandbox, con: Connection) -> None:
    before = sandbox.calls("sageintacct")
    rows = con.execute("EXPLAIN SELECT Onhold, sum(Totaldue) FROM sage.Customer WHERE Recordno > 7 GROUP BY 1")
    assert sandbox.calls("sageintacct") == before
    assert rows.fetchall()[-1][1] == (
        "sage.Customer: <query><object>CUSTOMER</object><select><field>ONHOLD</field><sum>TOTALDUE</sum></select>"
        "<filter><greaterthan><field>RECORDNO</field><value>7</value></greaterthan></filter><pagesize>2000"
        "</pagesize><offset>0</offset></query> | 1 call (a scan instead if the API can't give DuckDB's exact answer)"
    )


INFO = TableInfo(
    name="Customer",
    columns=(
        Column("Recordno", pa.int64(), native_name="RECORDNO", primary_key=True, exact=True),
        Column("Totaldue", pa.decimal128(18, 2), native_name="TOTALDUE", exact=True),
    ),
    aggregates=frozenset(Aggregate),
)
COUNT = AggregateCall(Aggregate.COUNT)
TOTAL = AggregateCall(Aggregate.SUM, "Totaldue")


def test_count_star_counts_recordno_and_one_element_serves_both_counts() -> None:
    request = AggregateRequest(("Totaldue",), (COUNT, AggregateCall(Aggregate.COUNT_COLUMN, "Recordno")))
    assert compile_aggregate("CUSTOMER", request, INFO, UTC, 2000) == (
        "<query><object>CUSTOMER</object><select><field>TOTALDUE</field><count>RECORDNO</count></select>"
        "<pagesize>2000</pagesize><offset>0</offset></query>"
    )
    groups = read_aggregate([{"TOTALDUE": "1.50", "COUNT.RECORDNO": "3"}], 0, request, INFO, UTC)
    assert groups is not None and groups.to_pylist() == [
        {"Totaldue": decimal.Decimal("1.50"), "count(*)": 3, "count(Recordno)": 3}
    ]


def test_groups_beyond_one_page_or_inexact_sums_are_left_to_a_scan() -> None:
    request = AggregateRequest((), (COUNT, TOTAL))
    assert read_aggregate([{"COUNT.RECORDNO": "3", "SUM.TOTALDUE": "1.005"}], 0, request, INFO, UTC) is None
    grouped = AggregateRequest(("Recordno",), (TOTAL,))
    assert read_aggregate([{"RECORDNO": "1", "SUM.TOTALDUE": "1.00"}], 1, grouped, INFO, UTC) is None
    unsendable = AggregateRequest((), (COUNT,), Comparison("Recordno", Operator.EQ, float("nan")))
    assert compile_aggregate("CUSTOMER", unsendable, INFO, UTC, 2000) is None
    text = TableInfo(name="T", columns=(Column("Name", pa.string(), native_name="NAME", exact=True),))
    assert compile_aggregate("T", AggregateRequest(("Name",), (COUNT,)), text, UTC, 2000) is None

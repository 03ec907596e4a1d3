"""Aggregates, counts and top-N pushed to SOQL (issue 12): one call each where SOQL computes exactly DuckDB's
answer, DuckDB's own rows always (compared with `Pushdown=false`), and a scan where SOQL can't (text groups and
text orders are case-insensitive in SOQL, more than 2,000 groups don't come back)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pyarrow as pa
import pytest

import federation
from connectors.salesforce.aggregates import MAX_GROUPS, compile_aggregate, read_aggregate
from federation.connection import Connection
from federation.sandbox import Sandbox
from federation.table import Aggregate, AggregateCall, AggregateRequest, Column

Rows = list[tuple[object, ...]]


@pytest.fixture(scope="module")
def con(sf_sandbox: Sandbox) -> Iterator[Connection]:
    props = {**sf_sandbox.properties("financialforce"), "scheme": "financialforce"}
    with federation.connect({"fin": props, "ref": {**props, "Pushdown": "false"}}) as connection:
        connection.execute("SELECT 1 FROM fin.Account LIMIT 1").fetchall()  # log in, describe
        connection.execute("SELECT 1 FROM ref.Account LIMIT 1").fetchall()
        yield connection


def both(con: Connection, sql: str) -> tuple[Rows, Rows]:
    return con.execute(sql).fetchall(), con.execute(sql.replace("fin.", "ref.")).fetchall()


def spent(sandbox: Sandbox, con: Connection, sql: str) -> int:
    before = sandbox.calls("financialforce")
    con.execute(sql).fetchall()
    return sandbox.calls("financialforce") - before


PUSHED = [
    "SELECT count(*) FROM fin.Account WHERE NumberOfEmployees > 100",
    "SELECT count(*), sum(AnnualRevenue), avg(NumberOfEmployees), min(CreatedDate), max(NumberOfEmployees) "
    "FROM fin.Account WHERE AnnualRevenue >= 1000000",
    "SELECT NumberOfEmployees, count(*), count(AnnualRevenue), sum(AnnualRevenue) FROM fin.Account GROUP BY 1",
    "SELECT IsDeleted, count(*) FROM fin.Account GROUP BY IsDeleted",
    "SELECT count(*), sum(NumberOfEmployees) FROM fin.Account WHERE NumberOfEmployees < 0",  # no rows: one row
    "SELECT NumberOfEmployees, count(*) FROM fin.Account WHERE NumberOfEmployees < 0 GROUP BY 1",  # no groups
    "SELECT NumberOfEmployees, count(*) n FROM fin.Account GROUP BY 1 HAVING count(*) > 1 ORDER BY n DESC, 1 LIMIT 3",
]


@pytest.mark.parametrize("sql", PUSHED)
def test_pushed_aggregates_give_duckdbs_rows_in_one_call(sf_sandbox: Sandbox, con: Connection, sql: str) -> None:
    pushed, reference = both(con, sql)
    assert Counter(pushed) == Counter(reference)
    assert spent(sf_sandbox, con, sql) == 1


def test_text_groups_are_grouped_by_duckdb(con: Connection) -> None:
    # SOQL groups 'Acme' with 'ACME': the planner leaves text groups (and a WHERE on text) to DuckDB.
    for sql in (
        "SELECT Industry, count(*) FROM fin.Account GROUP BY Industry",
        "SELECT count(*) FROM fin.Account WHERE Industry = 'Retail'",
        "SELECT max(Name) FROM fin.Account",
    ):
        assert "__duckfed_agg" not in con._planner.plan(sql).sql
        pushed, reference = both(con, sql)
        assert Counter(pushed) == Counter(reference)


TOP_N = [
    "SELECT AnnualRevenue, Id FROM fin.Account ORDER BY AnnualRevenue DESC LIMIT 5",
    "SELECT AnnualRevenue, Id FROM fin.Account ORDER BY AnnualRevenue LIMIT 5",  # NULLS LAST: said in SOQL
    "SELECT AnnualRevenue, Id FROM fin.Account ORDER BY AnnualRevenue DESC NULLS FIRST LIMIT 5",
    "SELECT NumberOfEmployees, Id FROM fin.Account WHERE AnnualRevenue > 5000000 ORDER BY 1 DESC LIMIT 7",
    "SELECT CreatedDate, Id FROM fin.Account ORDER BY CreatedDate DESC LIMIT 3",
]


@pytest.mark.parametrize("sql", TOP_N)
def test_a_top_n_costs_one_call_and_gives_duckdbs_rows(sf_sandbox: Sandbox, con: Connection, sql: str) -> None:
    pushed, reference = both(con, sql)
    assert [r[0] for r in pushed] == [r[0] for r in reference]  # the sort keys, ties included
    assert spent(sf_sandbox, con, sql) == 1


def test_a_case_insensitive_order_is_sorted_by_duckdb(con: Connection) -> None:
    sql = "SELECT Name FROM fin.Account ORDER BY Name DESC LIMIT 5"
    assert "_duckfed_fin_Account_" not in con._planner.plan(sql).sql
    pushed, reference = both(con, sql)
    assert pushed == reference


def test_explain_shows_the_soql(sf_sandbox: Sandbox, con: Connection) -> None:
    before = sf_sandbox.calls("financialforce")
    rows = con.execute(
        "EXPLAIN SELECT NumberOfEmployees, count(*) FROM fin.Account WHERE AnnualRevenue > 1000 GROUP BY 1"
    ).fetchall()
    top = con.execute("EXPLAIN SELECT Id FROM fin.Account ORDER BY AnnualRevenue DESC LIMIT 5").fetchall()
    assert sf_sandbox.calls("financialforce") == before
    # The last row names the limits those calls count against.
    assert rows[-1][1].startswith("fin: quota: ") and "calls left of the daily quota" in rows[-1][1]
    assert rows[-2] == (
        "api_request",
        "fin.Account: SELECT NumberOfEmployees, COUNT(Id) a0 FROM Account WHERE AnnualRevenue > 1000 GROUP BY "
        "NumberOfEmployees LIMIT 2001 | 1 call (a scan instead if the API can't give DuckDB's exact answer)",
    )
    assert top[-2][1] == (
        "fin.Account: SELECT Id, AnnualRevenue FROM Account ORDER BY AnnualRevenue DESC NULLS LAST LIMIT 5"
        " | about 1 call"
    )


INFO_COLUMNS = {
    "NumberOfEmployees": Column("NumberOfEmployees", pa.int64(), exact=True),
    "AnnualRevenue": Column("AnnualRevenue", pa.decimal128(18, 2), exact=True),
}
FIELDS = {
    "NumberOfEmployees": {"groupable": True, "aggregatable": True},
    "AnnualRevenue": {"groupable": False, "aggregatable": True},
}
GROUPED = AggregateRequest(
    ("NumberOfEmployees",),
    (AggregateCall(Aggregate.COUNT), AggregateCall(Aggregate.SUM, "AnnualRevenue")),
)
SCHEMA = pa.schema(
    [("NumberOfEmployees", pa.int64()), ("count(*)", pa.int64()), ("sum(AnnualRevenue)", pa.decimal128(38, 2))]
)


def body(records: list[dict[str, object]]) -> bytes:
    rows = [{"attributes": {"type": "AggregateResult"}, **r} for r in records]
    return json.dumps({"totalSize": len(rows), "done": True, "records": rows}).encode()


def test_more_groups_than_soql_returns_mean_a_scan() -> None:
    soql = compile_aggregate("Account", GROUPED, INFO_COLUMNS.__getitem__, FIELDS)
    assert soql == (
        "SELECT NumberOfEmployees, COUNT(Id) a0, SUM(AnnualRevenue) a1 FROM Account GROUP BY NumberOfEmployees "
        f"LIMIT {MAX_GROUPS + 1}"
    )
    many = [{"NumberOfEmployees": n, "a0": 1, "a1": 2.5} for n in range(MAX_GROUPS + 1)]
    assert read_aggregate(body(many), GROUPED, SCHEMA, INFO_COLUMNS.__getitem__) is None
    table = read_aggregate(body(many[:3]), GROUPED, SCHEMA, INFO_COLUMNS.__getitem__)
    assert table is not None and table.column("sum(AnnualRevenue)").to_pylist()[0] == pytest.approx(2.5)


def test_a_sum_the_api_rounded_as_a_double_means_a_scan() -> None:
    for inexact in ("0.30000000000000004", "12345678901234567.0"):
        reply = body([{"NumberOfEmployees": 1, "a0": 2, "a1": "§"}]).replace(b'"\\u00a7"', inexact.encode())
        assert read_aggregate(reply, GROUPED, SCHEMA, INFO_COLUMNS.__getitem__) is None


def test_fields_soql_cant_group_or_aggregate_mean_a_scan() -> None:
    by_revenue = AggregateRequest(("AnnualRevenue",), (AggregateCall(Aggregate.COUNT),))
    assert compile_aggregate("Account", by_revenue, INFO_COLUMNS.__getitem__, FIELDS) is None
    unaggregatable = {**FIELDS, "AnnualRevenue": {"aggregatable": False}}
    assert compile_aggregate("Account", GROUPED, INFO_COLUMNS.__getitem__, unaggregatable) is None

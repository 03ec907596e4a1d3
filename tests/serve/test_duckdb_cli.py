"""The real DuckDB CLI 1.5.5 with its postgres extension against `duckfed serve`: ATTACH, the catalog, scans with the
filters and LIMIT the extension pushes, joins with local tables, `postgres_query()`, every column type; results
and API calls equal to the same queries run in-process."""

from __future__ import annotations

import uuid

import pyarrow as pa
import pytest

from federation.connection import Connection
from tests.serve.conftest import DuckdbCli, Served


def sorted_rows(table: pa.Table) -> list[tuple[object, ...]]:
    return sorted((tuple(row.values()) for row in table.to_pylist()), key=lambda r: [(v is None, str(v)) for v in r])


def test_show_all_tables_lists_every_served_table(cli: DuckdbCli, local: Connection) -> None:
    listed = cli.table("SELECT schema, name FROM (SHOW ALL TABLES) WHERE database = 'crm'")
    assert sorted_rows(listed) == sorted(local.tables())


def test_describe_keeps_the_column_types_and_the_primary_key(cli: DuckdbCli, local: Connection) -> None:
    for name in ("fin.Account", "fin.Contact", "tpl.contacts"):
        served = cli.table(f'SELECT column_name, column_type, "null" FROM (DESCRIBE crm.{name})')
        own = local.execute(f"SELECT column_name, column_type FROM (DESCRIBE {name})").fetchall()
        assert [tuple(r)[:2] for r in served.to_pylist() for r in [r.values()]] == own  # DECIMAL(p,s) kept
        key = local.federation.locate(name)[1].table(name.split(".")[1]).info.columns[0]
        assert key.primary_key
        assert served.to_pylist()[0] == {
            "column_name": key.name,
            "column_type": "VARCHAR" if name.startswith("fin") else "BIGINT",
            "null": "NO",
        }


QUERIES = [
    "SELECT count(*) AS n FROM {fin}.Account",
    "SELECT Id, Name, AnnualRevenue, CreatedDate FROM {fin}.Account WHERE Industry = 'Banking' LIMIT 5",
    "SELECT Id, NumberOfEmployees FROM {fin}.Account WHERE NumberOfEmployees >= 1000 AND Industry <> 'Media'",
    "SELECT Id FROM {fin}.Account WHERE Industry IN ('Banking', 'Retail')",
    "SELECT id, score, birthday, active FROM {tpl}.contacts WHERE score > 50.5 AND updated_at > '2020-01-01'",
    "SELECT * FROM {tpl}.contacts",
    "SELECT * FROM {fin}.Contact WHERE Birthdate IS NULL OR Birthdate < DATE '1980-01-01'",
]


@pytest.mark.parametrize("query", QUERIES)
def test_queries_equal_the_same_queries_in_process_at_the_same_api_cost(
    cli: DuckdbCli, local: Connection, served: Served, query: str
) -> None:
    cli.run("SHOW ALL TABLES;")  # the catalog is described once; the comparison is about the scans
    local.execute(query.format(fin="fin", tpl="tpl")).fetchall()
    before = served.calls()
    through_server = cli.table(query.format(fin="crm.fin", tpl="crm.tpl"))
    server_calls = served.calls() - before
    before = served.calls()
    in_process = local.sql(query.format(fin="fin", tpl="tpl")).to_arrow_table()
    local_calls = served.calls() - before
    assert through_server.column_names == in_process.column_names
    assert sorted_rows(through_server) == sorted_rows(in_process)
    assert through_server.num_rows > 0
    assert server_calls == local_calls


def test_a_join_with_a_local_table(cli: DuckdbCli, local: Connection) -> None:
    tiers = (
        "SELECT * FROM (VALUES ('Banking', 'finance'), ('Insurance', 'finance'), ('Retail', 'trade')) "
        "t(industry, sector)"
    )
    query = (
        "SELECT sector, count(*) AS n, sum(AnnualRevenue) AS revenue FROM {fin}.Account a JOIN tiers t "
        "ON a.Industry = t.industry GROUP BY sector ORDER BY sector"
    )
    out = cli.run(f"CREATE TABLE tiers AS {tiers};\n" + query.format(fin="crm.fin") + ";").stdout.splitlines()
    expected = local.execute(f"WITH tiers AS ({tiers}) " + query.format(fin="fin")).fetchall()
    assert out[0] == "sector,n,revenue"
    assert out[1:] == [f"{s},{n},{r}" for s, n, r in expected]
    assert len(expected) == 2


def test_postgres_query_pushes_an_aggregate_through(cli: DuckdbCli, local: Connection, served: Served) -> None:
    cli.run("SHOW ALL TABLES;")
    query = 'SELECT "Industry", count(*) AS n FROM fin."Account" GROUP BY 1'
    before = served.calls()
    through_server = cli.table(f"SELECT * FROM postgres_query('crm', '{query.replace(chr(39), chr(39) * 2)}')")
    server_calls = served.calls() - before
    before = served.calls()
    in_process = local.sql(query).to_arrow_table()
    assert sorted_rows(through_server) == sorted_rows(in_process)
    assert server_calls == served.calls() - before == 1  # the API counted, not a scan of every record


def test_every_column_type_arrives_as_it_is(cli: DuckdbCli, local: Connection) -> None:
    values = (
        "1::SMALLINT AS i2, -2::INTEGER AS i4, 3000000000::BIGINT AS i8, 1.5::DOUBLE AS f8, 2.5::REAL AS f4, "
        "-0.00000001::DECIMAL(28,8) AS tiny, -12345678901234567890.12345678::DECIMAL(38,8) AS huge, "
        "80474.85::DECIMAL(18,2) AS money, 0::DECIMAL(4,4) AS fraction, 'x''y ü'::VARCHAR AS txt, true AS yes, "
        "DATE '2024-02-29' AS day, TIMESTAMP '1999-12-31 23:59:59.999999' AS ts, "
        "TIMESTAMPTZ '2024-01-01 12:34:56.5+00' AS tstz, TIME '12:34:56' AS t, '\\xAA\\x00'::BLOB AS bytes, "
        "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID AS id, '{\"a\": [1, 2]}'::JSON AS doc, NULL::INTEGER AS nothing"
    )
    through_server = cli.table(f"SELECT * FROM postgres_query('crm', 'SELECT {values.replace(chr(39), chr(39) * 2)}')")
    in_process = local.duckdb.sql(f"SELECT {values}").to_arrow_table()
    for name in in_process.column_names:
        got = [str(v) if isinstance(v, uuid.UUID) else v for v in through_server[name].to_pylist()]
        assert (name, got) == (name, in_process[name].to_pylist())
        # The CLI and the Python client spell UTC differently, and only the CLI writes UUIDs as such.
        expected = str(in_process[name].type).replace("Etc/UTC", "UTC")
        expected = "extension<arrow.uuid>" if name == "id" else expected
        assert (name, str(through_server[name].type)) == (name, expected)


def test_hostile_statements_through_the_extension_are_refused(cli: DuckdbCli, local: Connection) -> None:
    replaced = cli.run(
        "CALL postgres_execute('crm', 'CREATE OR REPLACE VIEW fin.\"Account\" AS SELECT 1 AS x');", check=False
    )
    assert replaced.returncode != 0 and "refuses this statement: CREATE" in replaced.stderr
    settings = cli.run("SELECT * FROM postgres_query('crm', 'SELECT * FROM duckdb_settings()');", check=False)
    assert settings.returncode != 0 and "table functions" in settings.stderr
    counted = cli.table("SELECT count(*) AS n FROM crm.fin.Account")
    assert counted.to_pylist() == [{"n": local.execute("SELECT count(*) FROM fin.Account").fetchone()[0]}]

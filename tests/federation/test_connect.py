"""`federation.connect()`: sources as schemas, results in every form DuckDB offers, and bad input."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import federation
from federation.errors import (
    AuthenticationError,
    ConfigurationError,
    ConnectionFailed,
    ProgrammingError,
    QueryRejected,
    UnknownTableError,
)
from federation.sandbox import Sandbox


def test_importing_federation_loads_no_library_a_query_path_loads_later() -> None:
    """`import federation` loads DuckDB, Arrow and the contract's types; Arrow's compute kernels, the SQL parser and
    the HTTP client come with the first connection, SQLAlchemy with `create_engine`, pandas with a DataFrame."""
    later = ["pyarrow.compute", "sqlglot", "httpx", "sqlalchemy", "authlib", "pandas", "tqdm"]
    code = f"import json, sys, federation; print(json.dumps([m for m in {[*later, 'duckdb']!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(done.stdout) == ["duckdb"]


@pytest.fixture()
def both(sf_sandbox: Sandbox) -> Any:
    con = federation.connect({"fin": sf_sandbox.url("financialforce"), "psa": sf_sandbox.url("certinia")})
    yield con
    con.close()


def test_one_statement_joins_two_sources(both: Any) -> None:
    rows = both.execute(
        """
        SELECT a.Name, count(p.Id) AS projects
        FROM fin.Account a JOIN psa.pse__Proj__c p ON p.pse__Account__c = a.Id
        GROUP BY ALL ORDER BY projects DESC, a.Name LIMIT 5
        """
    ).fetchall()
    assert len(rows) == 5 and rows[0][1] >= rows[-1][1] >= 1


def test_results_come_out_as_arrow_pandas_polars_and_tuples(both: Any) -> None:
    sql = "SELECT Id, Name FROM fin.Account ORDER BY Id LIMIT 4"
    table = both.sql(sql).arrow().read_all()
    assert isinstance(table, pa.Table) and table.num_rows == 4
    frame = both.sql(sql).df()
    assert frame["Id"].tolist() == table.column("Id").to_pylist()
    polars_frame = both.sql(sql).pl()
    assert polars_frame["Name"].to_list() == table.column("Name").to_pylist()
    assert [r[0] for r in both.execute(sql).fetchall()] == table.column("Id").to_pylist()


def test_a_single_source_is_reachable_unqualified(sf_sandbox: Sandbox) -> None:
    with federation.connect(sf_sandbox.url("financialforce")) as con:
        assert con.execute("SELECT count(*) FROM Account").fetchone() == (1000,)
        assert con.execute("SELECT count(*) FROM financialforce.Account").fetchone() == (1000,)


def test_cursors_see_the_sources_too(both: Any) -> None:
    both.execute("SELECT count(*) FROM fin.Account").fetchall()
    cursor = both.cursor()
    assert cursor.execute("SELECT count(*) FROM fin.Account").fetchone() == (1000,)


def test_an_unknown_table_is_named_with_a_suggestion(both: Any) -> None:
    with pytest.raises(UnknownTableError, match=r"source 'fin' has no table 'Acount'; did you mean Account\?"):
        both.execute("SELECT * FROM fin.Acount")


def test_an_unknown_column_is_named(both: Any) -> None:
    with pytest.raises(duckdb.BinderException, match="Nme"):
        both.execute("SELECT Nme FROM fin.Account")


def test_an_unknown_source_property_suggests_the_right_one(sf_sandbox: Sandbox) -> None:
    props = {**sf_sandbox.properties("financialforce"), "SecurityTokn": "x", "scheme": "financialforce"}
    del props["SecurityToken"]
    with pytest.raises(ConfigurationError, match="did you mean SecurityToken"):
        federation.connect({"fin": props})


def test_missing_credentials_are_named() -> None:
    with pytest.raises(ConfigurationError, match="Password is required"):
        federation.connect({"fin": "financialforce:///?User=someone"})


def test_wrong_credentials_give_the_apis_message_and_no_secret(sf_sandbox: Sandbox) -> None:
    props = {**sf_sandbox.properties("financialforce"), "Password": "wrong-secret", "scheme": "financialforce"}
    with federation.connect({"fin": props}) as con, pytest.raises(AuthenticationError) as caught:
        con.execute("SELECT * FROM fin.Account LIMIT 1")
    assert "INVALID_LOGIN" in str(caught.value)
    assert "wrong-secret" not in str(caught.value) and "myToken" not in str(caught.value)


def test_an_unreachable_host_is_reported(sf_sandbox: Sandbox) -> None:
    props = {
        **sf_sandbox.properties("financialforce"),
        "URL": "http://127.0.0.1:9",
        "MaxRetries": "2",
        "scheme": "financialforce",
    }
    with federation.connect({"fin": props}) as con, pytest.raises(ConnectionFailed, match=r"can't reach 127\.0\.0\.1"):
        con.execute("SELECT * FROM fin.Account LIMIT 1")


def test_a_soql_error_carries_the_apis_message(both: Any, caplog: pytest.LogCaptureFixture) -> None:
    client = both.federation.sources["fin"].client
    caplog.set_level(logging.DEBUG, logger="duckfed.salesforce")
    with pytest.raises(QueryRejected) as caught:
        client.query("SELECT Nme FROM Account")
    assert "No such column 'Nme' on entity 'Account'" in str(caught.value)
    assert "row 1, column 8" in str(caught.value)
    assert caught.value.api_code == "INVALID_FIELD"
    assert any("SELECT Nme FROM Account" in r.getMessage() for r in caplog.records)


def test_closing_the_connection_closes_its_sources_but_a_cursor_does_not(sf_sandbox: Sandbox) -> None:
    con = federation.connect({"fin": sf_sandbox.url("financialforce")})
    http = con.federation.sources["fin"].client.http._client
    cursor = con.cursor()
    cursor.execute("SELECT count(*) FROM fin.Account").fetchall()
    cursor.close()
    assert not http.is_closed
    assert con.execute("SELECT count(*) FROM fin.Account").fetchone() == (1000,)
    con.close()
    assert http.is_closed


def test_a_duckdb_table_of_the_same_name_keeps_the_unqualified_name(sf_sandbox: Sandbox) -> None:
    with federation.connect(sf_sandbox.url("financialforce")) as con:
        con.execute("CREATE TABLE Account (x INTEGER)")
        con.execute("INSERT INTO Account VALUES (1), (2)")
        assert con.execute("SELECT sum(x) FROM Account").fetchone() == (3,)
        assert con.execute("SELECT count(*) FROM financialforce.Account").fetchone() == (1000,)
        con.execute("DROP TABLE Account")
        assert con.execute("SELECT count(*) FROM Account").fetchone() == (1000,)


def test_an_unqualified_name_that_one_source_has_resolves_to_it(both: Any) -> None:
    assert both.execute("SELECT count(*) FROM pse__Proj__c").fetchone() == (1000,)


def test_an_unqualified_name_that_several_sources_have_lists_them(both: Any) -> None:
    with pytest.raises(ProgrammingError, match=r"'Account' is ambiguous: there are fin.Account and psa.Account"):
        both.execute("SELECT count(*) FROM Account")
    # A name the statement itself defines is not a source table.
    assert both.execute("WITH Account AS (SELECT 1 AS x) SELECT * FROM Account").fetchall() == [(1,)]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT * FROM Acount", r"^no table 'Acount'; did you mean fin.Account or psa.Account\?$"),
        ("SELECT * FROM pse__Proj", r"^no table 'pse__Proj'; did you mean psa.pse__Proj__c\?$"),
        ("SELECT * FROM fn.Account", r"^no source or schema 'fn'; the sources are fin, psa$"),
        ("SELECT * FROM constraints", r"^no table 'constraints'"),  # DuckDB would suggest duckdb_constraints
        ("SELECT * FROM xyzzy", r"^no table 'xyzzy'$"),
    ],
)
def test_an_unknown_table_suggests_source_tables_only(both: Any, sql: str, message: str) -> None:
    with pytest.raises(UnknownTableError, match=message) as caught:
        both.execute(sql)
    assert "duckdb_" not in str(caught.value) and "pg_" not in str(caught.value)


def test_explain_registers_the_tables_it_explains_and_is_quiet(
    sf_sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with federation.connect(sf_sandbox.url("financialforce")) as con:
        plan = con.execute("EXPLAIN SELECT Name FROM financialforce.Account WHERE Industry = 'Banking'").fetchall()
        assert "ARROW_SCAN" in str(plan)
        analyzed = con.execute("EXPLAIN ANALYZE SELECT count(*) FROM Contact").fetchall()
        assert "ARROW_SCAN" in str(analyzed)
    assert not [r for r in caplog.records if r.name.startswith("sqlglot")]


def test_python_objects_are_scanned_by_name_as_duckdb_does(both: Any) -> None:
    prices = pa.table({"Name": ["x", "y"], "price": [1, 2]})  # noqa: F841  # read by name, in the SQL
    assert both.sql("SELECT sum(price) FROM prices").fetchall() == [(3,)]
    assert both.cursor().execute("SELECT count(*) FROM prices").fetchone() == (2,)

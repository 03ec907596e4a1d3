"""Errors keep their type and belong to their statement: a scan that fails raises the connector's typed error from
every interface (execute, a relation's terminal methods, Arrow readers), and never again for a later statement."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import federation
from federation.connection import Connection
from federation.errors import TransientError, UnknownTableError
from federation.relation import Relation
from federation.sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """An emulator of its own: these tests inject faults. 450 accounts are three pages of 200."""
    with Sandbox(records=450, sources=["financialforce"]) as running:
        yield running


@pytest.fixture()
def con(sandbox: Sandbox) -> Iterator[Connection]:
    # One attempt per request: a fault fails the statement at once, with no backoff to wait out.
    props = {**sandbox.properties("financialforce"), "MaxRetries": "1", "PageSize": "200", "scheme": "financialforce"}
    with federation.connect({"fin": props}) as opened:
        opened.execute("SELECT Id FROM fin.Account LIMIT 1").fetchall()  # log in and describe before any fault
        yield opened
    sandbox.server("financialforce").clear_faults()


TERMINALS: dict[str, Callable[[Any, Path], object]] = {
    "fetchall": lambda r, _: r.fetchall(),
    "df": lambda r, _: r.df(),
    "pl": lambda r, _: r.pl(),
    "to_arrow_table": lambda r, _: r.to_arrow_table(),
    "arrow": lambda r, _: r.arrow().read_all(),
    "write_parquet": lambda r, tmp: r.write_parquet(str(tmp / "out.parquet")),
    "write_csv": lambda r, tmp: r.write_csv(str(tmp / "out.csv")),
    "str": lambda r, _: str(r),
    "derived relation": lambda r, _: r.filter("Name IS NOT NULL").aggregate("count(*)").fetchall(),
    "grouped relation": lambda r, _: r.group_by("Industry").agg("count(*)").fetchall(),
}


@pytest.mark.parametrize("terminal", TERMINALS.values(), ids=TERMINALS.keys())
def test_every_way_of_reading_a_relation_raises_the_connectors_error(
    con: Connection, sandbox: Sandbox, tmp_path: Path, terminal: Callable[[Any, Path], object]
) -> None:
    relation = con.sql("SELECT Name, Industry FROM fin.Account")
    assert isinstance(relation, Relation)
    sandbox.server("financialforce").inject(503, times=1, kinds={"query"})
    with pytest.raises(TransientError, match=r"^financialforce: query: Server temporarily unavailable") as caught:
        terminal(relation, tmp_path)
    assert "Traceback" not in str(caught.value)


def test_a_page_failing_mid_stream_raises_while_the_reader_is_read(con: Connection, sandbox: Sandbox) -> None:
    sandbox.server("financialforce").inject(503, times=1, kinds={"queryMore"})
    relation = con.sql("SELECT Id FROM fin.Account")
    # DuckDB reads ahead: the failed page surfaces as the reader is made or as it is read, as timing has it.
    with pytest.raises(TransientError, match="queryMore"):
        relation.arrow(200).read_all()


def test_execute_raises_the_connectors_error(con: Connection, sandbox: Sandbox) -> None:
    sandbox.server("financialforce").inject(503, times=1, kinds={"query"})
    with pytest.raises(TransientError, match="Server temporarily unavailable"):
        con.execute("SELECT count(*) FROM fin.Account")


def test_a_failure_is_never_raised_for_another_statement(con: Connection, sandbox: Sandbox) -> None:
    # A failure DuckDB's own API ran into (not through duckfed's) stays unreported...
    sandbox.server("financialforce").inject(503, times=1, kinds={"query"})
    with pytest.raises(duckdb.InvalidInputException):
        con.duckdb.sql("SELECT count(*) FROM fin.Account").fetchall()
    # ...and the next statements that fail do so with their own errors.
    with pytest.raises(UnknownTableError, match=r"no table 'Acount'; did you mean fin\.Account"):
        con.execute("SELECT * FROM Acount")
    with pytest.raises(duckdb.BinderException, match="Nme"):
        con.execute("SELECT Nme FROM fin.Account")
    relation = con.sql("SELECT count(*) FROM fin.Account")
    assert relation is not None and relation.fetchall() == [(450,)]


def test_relations_combine_and_convert_like_duckdbs(con: Connection) -> None:
    accounts = con.sql("SELECT Id, Name FROM fin.Account")
    contacts = con.sql("SELECT AccountId FROM fin.Contact")
    assert accounts is not None and contacts is not None
    joined = accounts.join(contacts, "Id = AccountId").aggregate("count(DISTINCT Id)")
    assert isinstance(joined, Relation) and joined.fetchall()[0][0] > 0
    assert accounts.columns == ["Id", "Name"] and "Name" in accounts and len(accounts) == 450
    assert pa.table(accounts).num_rows == 450  # the Arrow PyCapsule interface


@pytest.mark.parametrize("fetch", ["fetchall", "fetchone", "fetchmany", "df", "fetchnumpy"])
def test_results_fetched_from_the_connection_raise_the_connectors_error(
    con: Connection, sandbox: Sandbox, fetch: str
) -> None:
    # DuckDB's execute may return before a later page is read, which then fails while the result is fetched.
    sandbox.server("financialforce").inject(503, times=1, kinds={"queryMore"})
    with pytest.raises(TransientError, match="queryMore"):
        con.execute("SELECT Id FROM fin.Account")
        getattr(con, fetch)()

"""Write statements taken apart: which are writes, what they target, and the DuckDB queries derived from them,
run in DuckDB with the statement's own parameters in each paramstyle."""

from __future__ import annotations

import logging

import duckdb
import pytest
from sqlglot import exp

from federation.errors import NotSupportedError, ProgrammingError
from federation.statements import (
    DIALECT,
    KEY,
    ORDINAL,
    Kind,
    Write,
    check_placeholders,
    constant_query,
    explained,
    maybe_null,
    might_write,
    number_placeholders,
    parse,
    parse_writes,
    pinned_key,
    referenced_tables,
    resolve_query,
    returning_query,
    rows_query,
    unscoped,
)


def only_write(sql: str) -> Write:
    writes, statements = parse_writes(number_placeholders(sql))
    assert statements == 1 and len(writes) == 1
    return writes[0]


@pytest.mark.parametrize(
    ("sql", "numbered"),
    [
        ("INSERT INTO t (a, b) VALUES (?, ?)", "INSERT INTO t (a, b) VALUES ($1, $2)"),
        # A question mark in a string or a comment is not a placeholder.
        ("UPDATE t SET a = ? WHERE b = '?' AND c = ? -- ?", "UPDATE t SET a = $1 WHERE b = '?' AND c = $2 -- ?"),
        ("DELETE FROM t WHERE a = $1", "DELETE FROM t WHERE a = $1"),
        ("DELETE FROM t WHERE a = $name", "DELETE FROM t WHERE a = $name"),
    ],
)
def test_question_marks_are_numbered_in_textual_order(sql: str, numbered: str) -> None:
    assert number_placeholders(sql) == numbered


@pytest.mark.parametrize(
    ("sql", "kind", "schema", "table"),
    [
        ('INSERT INTO fin."Account" ("Name") VALUES ($1)', Kind.INSERT, "fin", "Account"),
        ("WITH q AS (SELECT 1 AS a) INSERT INTO Account (Name) SELECT a FROM q", Kind.INSERT, None, "Account"),
        ("UPDATE fin.Account AS a SET Name = 'x' WHERE a.Id = 'y'", Kind.UPDATE, "fin", "Account"),
        ("DELETE FROM Account USING x WHERE Account.Id = x.id", Kind.DELETE, None, "Account"),
    ],
)
def test_writes_are_recognised_with_their_target(sql: str, kind: Kind, schema: str | None, table: str) -> None:
    write = only_write(sql)
    assert (write.kind, write.schema, write.table) == (kind, schema, table)


def test_other_statements_are_not_writes() -> None:
    assert not might_write("SELECT * FROM Account WHERE Name = 'x'")
    assert parse_writes("SELECT 'update' AS word") == ([], 1)
    # A three-part name is another DuckDB database, never a source table.
    assert parse_writes("DELETE FROM other_db.main.t") == ([], 1)
    assert parse_writes("this is not sql (") == ([], 0)
    writes, statements = parse_writes("INSERT INTO t (a) VALUES (1); SELECT 1")
    assert len(writes) == 1 and statements == 2


def run(query: exp.Expr, parameters: object = None) -> list[tuple[object, ...]]:
    duck = duckdb.connect()
    duck.execute("CREATE TABLE other (id VARCHAR, x INTEGER)")
    duck.execute("INSERT INTO other VALUES ('b', 10), ('c', 20)")
    duck.execute("CREATE SCHEMA fin")
    duck.execute("CREATE TABLE fin.Account AS SELECT * FROM (VALUES ('a', 'Acme', 1), ('b', 'Beta', 2)) v(Id, Name, N)")
    return duck.execute(query.sql(DIALECT), parameters).fetchall()


@pytest.mark.parametrize(
    ("sql", "parameters"),
    [
        ("INSERT INTO fin.Account (Name, N) VALUES (?, ?), (?, ?)", ["x", 1, "y", None]),
        ("INSERT INTO fin.Account (Name, N) VALUES ($1, $2), ($3, $4)", ["x", 1, "y", None]),
        ("INSERT INTO fin.Account (Name, N) VALUES ($a, $b), ($c, $d)", {"a": "x", "b": 1, "c": "y", "d": None}),
    ],
)
def test_insert_values_keep_their_order_and_parameters_in_every_paramstyle(sql: str, parameters: object) -> None:
    write = only_write(sql)
    query = rows_query(write, write.columns())
    check_placeholders(write, [query])
    assert run(query, parameters) == [("x", "1", 0), ("y", None, 1)]  # as text: cast per column later
    assert query.named_selects == ["*"] and ORDINAL in query.sql(DIALECT)


def test_insert_select_runs_its_query_with_its_ctes() -> None:
    write = only_write(
        "WITH q AS (SELECT id, x FROM other WHERE x > $1) INSERT INTO fin.Account (Id, N) SELECT * FROM q"
    )
    assert sorted(run(rows_query(write, write.columns()), [15])) == [("c", 20)]


def test_insert_refuses_what_a_source_table_cannot_take() -> None:
    with pytest.raises(ProgrammingError, match="2 values in row 1 for 1 target"):
        rows_query(only_write("INSERT INTO t (a) VALUES (1, 2)"), ["a"])
    with pytest.raises(ProgrammingError, match="needs a column list"):
        only_write("INSERT INTO t VALUES (1)").columns()
    assert only_write("INSERT INTO t BY NAME SELECT 1 AS a").columns() is None
    with pytest.raises(NotSupportedError, match="replace or skip"):
        rows_query(only_write("INSERT INTO t (a) VALUES (1) ON CONFLICT DO NOTHING"), ["a"])
    with pytest.raises(NotSupportedError, match="DEFAULT VALUES"):
        rows_query(only_write("INSERT INTO t DEFAULT VALUES"), None)


def test_update_resolves_keys_and_new_values_through_a_select() -> None:
    write = only_write("UPDATE fin.Account AS a SET Name = ?, N = a.N + o.x FROM other o WHERE a.Id = o.id AND a.N > ?")
    values = [value for _, value in write.assignments()]
    query = resolve_query(write, "Id", values, ["Name"])
    check_placeholders(write, [query])
    assert [name for name, _ in write.assignments()] == ["Name", "N"]
    assert run(query, ["new", 1]) == [("b", "new", 12, "Beta")]
    assert query.named_selects[0] == KEY


def test_delete_resolves_keys_with_using_tables() -> None:
    write = only_write("DELETE FROM fin.Account USING other WHERE fin.Account.Id = other.id AND other.x < $1")
    assert run(resolve_query(write, "Id", [], []), [15]) == [("b",)]


@pytest.mark.parametrize(
    ("sql", "pinned"),
    [
        ('UPDATE "Account" SET "Name"=$1 WHERE "Account"."Id" = $2', "$2"),
        ('DELETE FROM fin."Account" WHERE fin."Account"."Id" = $1', "$1"),
        ("DELETE FROM fin.Account WHERE $1 = Id", "$1"),
        ("DELETE FROM fin.Account WHERE Id = upper($1)", "UPPER($1)"),
        # Anything that reads a column or a table is evaluated per statement, not batched.
        ("UPDATE fin.Account SET N = N + 1 WHERE Id = $1", None),
        ("DELETE FROM fin.Account WHERE Id = (SELECT max(id) FROM other)", None),
        ("DELETE FROM fin.Account WHERE Id = $1 AND N = $2", None),
        ("DELETE FROM fin.Account WHERE Name = $1", None),
        ("DELETE FROM fin.Account WHERE Id = $1 RETURNING Name", None),
    ],
)
def test_statements_that_pin_one_key_are_recognised(sql: str, pinned: str | None) -> None:
    found = pinned_key(only_write(sql), "Id")
    assert (found.sql(DIALECT) if found is not None else None) == pinned


def test_pinned_values_are_evaluated_without_a_table() -> None:
    write = only_write("UPDATE fin.Account SET Name = upper($1), N = $2 WHERE Id = $3")
    pinned = pinned_key(write, "Id")
    assert pinned is not None
    assert run(constant_query([pinned, *(v for _, v in write.assignments())]), ["x", 5, "a"]) == [("a", "X", "5")]


def test_returning_reads_the_written_rows_without_qualifiers() -> None:
    write = only_write(
        'INSERT INTO fin."Account" ("Name") VALUES ($1) RETURNING "Account"."Id", upper(fin.Account.Name)'
    )
    assert write.returned_columns() == {"Id", "Name"}
    assert returning_query(write, "written").sql(DIALECT) == 'SELECT "Id", UPPER(Name) FROM written'
    assert only_write("DELETE FROM t WHERE a = 1 RETURNING *").returned_columns() is None
    with pytest.raises(NotSupportedError, match="RETURNING"):
        check_placeholders(only_write("DELETE FROM t WHERE a = 1 RETURNING a + $1"), [])


@pytest.mark.parametrize(
    ("sql", "reaches_all"),
    [
        ("UPDATE t SET a = 1", True),
        ("DELETE FROM t", True),
        ("DELETE FROM t WHERE 1 = 1", True),
        ("DELETE FROM t WHERE NOT FALSE AND 2 > 1", True),
        ("UPDATE t SET a = 1 WHERE b = 2 OR TRUE", True),
        ("DELETE FROM t USING u", True),
        ("DELETE FROM t WHERE b = 2", False),
        ("DELETE FROM t WHERE 1 = 1 AND b = 2", False),
        ("DELETE FROM t WHERE b = b", False),  # false where b is NULL
        ("DELETE FROM t WHERE $1", False),
    ],
)
def test_writes_that_reach_every_record_are_recognised(sql: str, reaches_all: bool) -> None:
    assert unscoped(only_write(sql)) is reaches_all


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ("SELECT * FROM fin.Account a JOIN Contact c ON a.Id = c.AccountId", [("fin", "Account"), (None, "Contact")]),
        ("EXPLAIN SELECT Name FROM fin.Account", [("fin", "Account")]),
        ("explain analyze SELECT count(*) FROM Contact", [(None, "Contact")]),
        ("WITH Account AS (SELECT 1) SELECT * FROM Account, fin.Account", [("fin", "Account")]),
        ("CREATE TABLE Account AS SELECT * FROM fin.Account", [("fin", "Account")]),
        ("SELECT * FROM read_parquet('x.parquet')", []),
        ("this is not sql (", []),
    ],
)
def test_the_tables_a_statement_names_are_found(sql: str, tables: list[tuple[str | None, str]]) -> None:
    assert referenced_tables(sql) == tables


def test_parsing_is_quiet(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="sqlglot")
    assert explained("EXPLAIN SELECT 1") == "SELECT 1"
    assert parse_writes("EXPLAIN UPDATE t SET a = 1") == ([], 1)  # EXPLAIN writes nothing
    assert [type(s) for s in parse("EXPLAIN SELECT 1")] == [exp.Command]  # sqlglot's "unsupported syntax"
    assert not caplog.records


def test_insert_columns_that_may_turn_out_null_are_known() -> None:
    write = only_write("INSERT INTO t (a, b, c) VALUES ($1, NULL, 'x'), ($2, $3, NULL)")
    assert maybe_null(write, ["a", "b", "c"]) == {"a", "b"}
    assert maybe_null(only_write("INSERT INTO t (a) SELECT NULL"), ["a"]) == set()

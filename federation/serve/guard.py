"""Which statements a client of `duckfed serve` may run: an allowlist, checked on sqlglot's parse.

Allowed are queries (SELECT, set operations, VALUES, with CTEs and subqueries), `EXPLAIN` of one, and INSERT,
UPDATE and DELETE of served tables, which go through the connection's DML routing and its guards. Every relation
a statement names must be a served table (`source.table`, or a table name one source has) or a CTE of the
statement; table functions (`read_csv`, `duckdb_settings()`, `query_table`), names of another catalog and
DuckDB's own schemas are refused. Anything else (DDL, SET, ATTACH, COPY, PRAGMA, INSTALL, …) is refused by kind.

This sits on top of the serving DuckDB's own switches (`enable_external_access = false`, locked configuration),
which refuse file access, ATTACH, INSTALL/LOAD and SET whatever the statement; the allowlist also keeps a client
away from the DuckDB state those switches don't cover (settings, other schemas, views it could replace). A few
scalar functions that read DuckDB's state are refused by name as well.
"""

from __future__ import annotations

import enum

from sqlglot import exp

from federation.errors import NotSupportedError, UnknownTableError
from federation.sources import Federation
from federation.statements import explained, parse

#: Scalar functions that report the serving DuckDB's settings, catalog or session rather than compute a value.
_STATE_FUNCTIONS = frozenset(
    [
        "current_setting",
        "getvariable",
        "current_database",
        "current_catalog",
        "current_schema",
        "current_schemas",
        "current_query",
        "version",
        "in_search_path",
        "which_secret",
        "txid_current",
        "col_description",
        "obj_description",
        "shobj_description",
        "format_type",
        "format_pg_type",
    ]
)
_STATE_PREFIXES = ("duckdb_", "pragma_", "pg_", "has_")
_ALLOWED = "SELECT, EXPLAIN, INSERT, UPDATE or DELETE of served tables"


class Kind(enum.Enum):
    READ = "SELECT"
    WRITE = "WRITE"
    EXPLAIN = "EXPLAIN"


def refused(reason: str) -> NotSupportedError:
    return NotSupportedError(f"duckfed serve refuses this statement: {reason}")


def check(sql: str, federation: Federation) -> Kind:
    """The kind of an allowed statement; raises NotSupportedError (or UnknownTableError) for any other."""
    inner = explained(sql)
    statements = parse(inner if inner is not None else sql)
    if len(statements) != 1:
        raise refused(f"it can't be read as a {_ALLOWED}")
    statement = statements[0]
    if isinstance(statement, exp.Query):
        kind = Kind.READ if inner is None else Kind.EXPLAIN
    elif isinstance(statement, exp.Insert | exp.Update | exp.Delete) and inner is None:
        kind = Kind.WRITE
    else:
        name = statement.key.upper() if not isinstance(statement, exp.Command) else str(statement.this).upper()
        raise refused(f"{name} is not allowed; only a {_ALLOWED}")
    _check_relations(statement, federation)
    _check_functions(statement)
    return kind


def _check_relations(statement: exp.Expr, federation: Federation) -> None:
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    for table in statement.find_all(exp.Table):
        if isinstance(table.this, exp.Func) or not table.name:
            raise refused(f"table functions such as {table.this.sql('duckdb')!r} are not allowed")
        if table.catalog:
            raise refused(f"{table.sql('duckdb')} names another database; only served tables can be read")
        if not table.db and table.name.lower() in ctes:
            continue
        if federation.find(table.db or None, table.name) is None:
            name = f"{table.db}.{table.name}" if table.db else table.name
            raise UnknownTableError(f"no served table {name!r}{federation.hint(table.name)}")


def _check_functions(statement: exp.Expr) -> None:
    for function in statement.find_all(exp.Func):
        name = (function.name if isinstance(function, exp.Anonymous) else function.sql_name()).lower()
        if name in _STATE_FUNCTIONS or name.startswith(_STATE_PREFIXES):
            raise refused(f"function {name}() reads the server's own state")

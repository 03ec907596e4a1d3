"""Views a database file may keep: none that reads a source table.

A source table is a view over this process's registration, which nothing else can read; duckfed drops its own
views when the connection closes. A user's view stored in a file over a source table would outlive them and break
when the file is reopened in plain DuckDB or the DuckDB CLI, so creating one is refused, naming what to do
instead. Temporary views, and views of in-memory databases, go away with the connection and are fine.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import duckdb
from sqlglot import exp

from federation.errors import NotSupportedError
from federation.statements import parse

_VIEW = re.compile(r"\bview\b", re.IGNORECASE)


def refuse_stored_views(duck: duckdb.DuckDBPyConnection, sql: str, sources: Sequence[str]) -> None:
    """Raise NotSupportedError if `sql`, which reads the source tables `sources`, creates a view stored in a
    database file."""
    if not _VIEW.search(sql):
        return  # most statements: not worth parsing again
    for statement in parse(sql):
        if not isinstance(statement, exp.Create) or str(statement.args.get("kind", "")).upper() != "VIEW":
            continue
        properties = statement.args.get("properties")
        if properties is not None and any(isinstance(p, exp.TemporaryProperty) for p in properties.expressions):
            continue
        name = statement.this.find(exp.Table)
        catalog = name.catalog if name is not None and name.catalog else None
        found = duck.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = coalesce($1, current_database())", [catalog]
        ).fetchone()
        if found is None or found[0] is None:
            continue  # in memory: gone with the connection, like the source tables it reads
        view = name.sql(dialect="duckdb") if name is not None else "the view"
        raise NotSupportedError(
            f"CREATE VIEW {view} reads source tables ({', '.join(sources)}): stored in {found[0]}, it would break "
            "when the file is opened without this connection. Create it as a TEMP VIEW (for this connection), "
            "or copy the rows with CREATE TABLE … AS SELECT"
        )

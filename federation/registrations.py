"""The source tables registered on one DuckDB cursor: the views a statement's table names resolve to, and the
per-statement sources the planner's rewrites read (`federation.planned`).

This is DuckDB catalog state with a life of its own, apart from the connection's API: registrations are made
lazily (a table's schema costs a describe call), are transactional in DuckDB (a ROLLBACK removes them, so DuckDB's
catalog, not a record of ours, says what exists), are dropped when metadata goes stale, and the per-statement ones
are kept only for the recent statements. The views carry a comment by which `drop_views` finds them, since a
database file must not keep views over this process's registrations.
"""

from __future__ import annotations

import contextlib
import functools
from collections import deque

import duckdb

from federation.bridge import TableSource, register
from federation.cancel import Statement
from federation.connector import Connector
from federation.failures import Failures
from federation.planned import Source, source_for
from federation.planner import Planned
from federation.sources import Federation

#: How many per-statement sources (`federation.planner`) a cursor keeps registered.
_KEPT_PLANNED = 32
#: The comment on every view duckfed creates, by which they are found and dropped (see `drop_views`).
_OUR_VIEW = "duckfed: a view over a source table, dropped when its connection closes"


def drop_views(duck: duckdb.DuckDBPyConnection) -> None:
    """Drop every view duckfed created in this database: a database file must not keep views over this
    process's registrations, which nothing else can read (they come back when a statement names them)."""
    with contextlib.suppress(duckdb.TransactionException):
        duck.execute("ROLLBACK")  # what closing does to an open transaction anyway
    views = duck.execute(
        "SELECT schema_name, view_name FROM duckdb_views() WHERE database_name = current_database() AND comment = $1",
        [_OUR_VIEW],
    ).fetchall()
    for schema, name in views:
        duck.execute(f'DROP VIEW IF EXISTS "{schema}"."{name}"')


class Registrations:
    """The sources registered on one cursor (registrations are per cursor in DuckDB), by registered name."""

    def __init__(
        self, duck: duckdb.DuckDBPyConnection, federation: Federation, failures: Failures, statement: Statement
    ) -> None:
        self._duck = duck
        self._federation = federation
        self._failures = failures
        #: This cursor's statements, which the scans of the sources registered on it are part of.
        self._statement = statement
        #: The sources registered on this cursor, by name (EXPLAIN reads what DuckDB asked them).
        self.sources: dict[str, Source] = {}
        #: The names of the per-statement sources registered, oldest first.
        self._recent: deque[str] = deque()
        #: Source tables whose metadata a scan found stale, to register afresh.
        self._stale: set[tuple[str, str]] = set()

    def table(self, key: str, connector: Connector, table: str, *, unqualified: bool) -> None:
        """Register source `key`'s `table` and its view `key.table` (and `main.table` when named `unqualified`),
        unless DuckDB's catalog already has them."""
        # Registrations and views are transactional in DuckDB: a ROLLBACK (SQLAlchemy's pool does one whenever a
        # connection is returned) removes them. So DuckDB's catalog, not a record of our own, says what exists.
        hidden = f"_duckfed_{key}_{table}"
        wanted = [("main", hidden), (key, table)] + ([("main", table)] if unqualified else [])
        present = self._existing(wanted)
        if ("main", hidden) not in present:
            source = TableSource(
                connector.table(table),
                name=hidden,
                pushdown=bool(connector.settings["Pushdown"]),
                failures=self._failures,
                statement=self._statement,
                stale=functools.partial(self._mark_stale, key, connector, table),
                known_rows=connector.row_count(table),
                counted=functools.partial(connector.count_rows, table),
            )
            register(self._duck, source)
            self.sources[hidden] = source
        for schema, name in wanted[1:]:
            if (schema, name) in present:
                continue
            target = f'"{key}"."{table}"' if schema == "main" else f'"{hidden}"'
            self._duck.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            self._duck.execute(f'CREATE VIEW IF NOT EXISTS "{schema}"."{name}" AS SELECT * FROM {target}')
            self._duck.execute(f'COMMENT ON VIEW "{schema}"."{name}" IS \'{_OUR_VIEW}\'')

    def planned(self, source: Planned) -> None:
        """Register a per-statement source of the planner's rewrite."""
        connector = self._federation.sources[source.key]
        stale = functools.partial(self._mark_stale, source.key, connector, source.table.info.name)
        registered = source_for(
            source,
            self.sources,
            failures=self._failures,
            statement=self._statement,
            stale=stale,
            rows=connector.row_count(source.table.info.name),
        )
        register(self._duck, registered)
        # Each statement shape registers its own sources: keep the recent ones (a lazy relation may still read
        # them), so a long-lived connection doesn't accumulate one per query it ever ran.
        self.sources.pop(source.name, None)
        self.sources[source.name] = registered
        self._recent.append(source.name)
        while len(self._recent) > _KEPT_PLANNED:
            old = self._recent.popleft()
            if old not in self._recent:
                self.sources.pop(old, None)
                self._duck.unregister(old)

    def refresh_stale(self) -> None:
        """Drop the registrations of tables whose metadata went stale, so the next statement describes them."""
        while self._stale:
            key, table = self._stale.pop()
            hidden = f"_duckfed_{key}_{table}"
            self._duck.unregister(hidden)
            for schema, name in ((key, table), ("main", table)):
                self._duck.execute(f'DROP VIEW IF EXISTS "{schema}"."{name}"')

    def _mark_stale(self, key: str, connector: Connector, table: str) -> None:
        connector.forget_metadata(table)
        self._stale.add((key, table))

    def _existing(self, names: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (schema, name) pairs DuckDB already has, as a view or a table: a user's own table of
        the same name keeps the unqualified name."""
        rows = self._duck.execute(
            # Only this database's own and temporary objects: a table of an attached file (`duckfed sync`'s
            # target holds `fin.Account` too) is not our view.
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_name IN (SELECT unnest($1)) "
            "AND table_catalog IN (current_database(), 'temp')",
            [[name for _, name in names]],
        ).fetchall()
        return {(schema, name) for schema, name in rows} & set(names)

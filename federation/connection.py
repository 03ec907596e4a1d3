"""A DuckDB connection whose sources' tables are views, registered lazily when a statement names them.

`connect({"fin": "financialforce:///?…", "psa": "certinia:///?…"})` gives a `Connection`: DuckDB's own API
(`execute`, `sql`, `fetchall`, `.arrow()`, `.df()`, `.pl()`, …) where `fin.Account` and `psa.pse__Proj__c` are
views over the connectors, and with a single source its tables are reachable unqualified too.

Registration is lazy because DuckDB reads a source's schema when it is registered, and a table's schema costs
an API call (describe): before each statement the tables it names are found with sqlglot and registered, so
connecting costs at most the table list, and a query costs only the tables it reads.
"""

from __future__ import annotations

import difflib
import functools
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from federation.bridge import Failures, TableSource, register
from federation.connector import Connector
from federation.dml import Writes
from federation.errors import ConfigurationError, IrreversibleWriteWarning, UnknownTableError
from federation.registry import open_source

SourceSpec = str | Connector | Mapping[str, object]


def connect(sources: Mapping[str, SourceSpec] | SourceSpec, *, database: str = ":memory:") -> Connection:
    """A DuckDB connection with each source's tables as views in a schema named by its key.

    `sources` maps schema names to source URLs (`"financialforce:///?User=…"`), property mappings with a
    `scheme` key, or connectors; a single URL is named by its scheme.
    """
    if isinstance(sources, str | Connector) or "scheme" in sources:
        single = open_source(sources)
        opened = {single.scheme: single}
    else:
        opened = {}
        try:
            for key, spec in sources.items():
                _check_key(key)
                opened[key] = open_source(spec)  # type: ignore[arg-type]  # a Mapping[str, SourceSpec] here
        except BaseException:
            for connector in opened.values():
                connector.close()
            raise
    return Connection(Federation(opened), duckdb.connect(database))


def _check_key(key: str) -> None:
    if not key or not key.replace("_", "").isalnum() or key.lower() in ("main", "temp", "information_schema"):
        raise ConfigurationError(f"source name {key!r} must be a plain identifier and not a DuckDB schema name")


class Federation:
    """The sources of one database, shared by every cursor of it."""

    def __init__(self, sources: Mapping[str, Connector]) -> None:
        self.sources = dict(sources)
        self.failures = Failures()

    def source(self, key: str) -> tuple[str, Connector] | None:
        lowered = key.lower()
        return next(((k, c) for k, c in self.sources.items() if k.lower() == lowered), None)

    @property
    def default(self) -> tuple[str, Connector] | None:
        """The source whose tables are reachable unqualified: the only one, if there is one."""
        return next(iter(self.sources.items())) if len(self.sources) == 1 else None

    def close(self) -> None:
        for connector in self.sources.values():
            connector.close()


class Connection:
    """DuckDB's connection API over a `Federation`; every name not defined here is DuckDB's own."""

    def __init__(self, federation: Federation, duck: duckdb.DuckDBPyConnection, *, owner: bool = True) -> None:
        self.federation = federation
        self._duck = duck
        #: Whether closing this connection closes the sources too (the first connection; not its cursors).
        self._owner = owner
        self._rowcount: int | None = None

    # -- DuckDB's API, with lazy registration and our errors -------------------------------------------------

    def execute(self, query: str, parameters: Sequence[Any] | Mapping[str, Any] | None = None) -> Connection:
        self._rowcount = None
        routed = self._writes.route(query)
        if routed is not None:
            self._rowcount = self._writes.run(routed, [parameters])
            return self
        self.prepare(query)
        self._run(self._duck.execute, query, parameters)
        return self

    def executemany(self, query: str, parameters: Iterable[Sequence[Any] | Mapping[str, Any]]) -> Connection:
        self._rowcount = None
        routed = self._writes.route(query)
        if routed is not None:
            # Many parameter sets of one write become one batched write (see `federation.dml`).
            self._rowcount = self._writes.run(routed, list(parameters))
            return self
        self.prepare(query)
        self._run(self._duck.executemany, query, list(parameters))
        return self

    @functools.cached_property
    def _writes(self) -> Writes:
        return Writes(self)

    def begin(self) -> Connection:
        """Begin a DuckDB transaction; writes to sources still reach the API as their statements run."""
        self._run(self._duck.begin)
        self._writes.pending.clear()
        return self

    def commit(self) -> Connection:
        """Commit DuckDB's transaction; the API already holds every write (they are sent as statements run)."""
        self._run(self._duck.commit)
        self._writes.pending.clear()
        return self

    def rollback(self) -> Connection:
        """Roll back DuckDB's transaction, warning about writes the API already holds (they can't be undone)."""
        written = self._writes.written()
        self._writes.pending.clear()
        if written is not None:
            warnings.warn(
                IrreversibleWriteWarning(
                    f"rollback can't undo the {written} since the transaction began: "
                    "the API applied each write as its statement ran"
                ),
                stacklevel=2,
            )
        # A rollback also drops views and sources registered inside the transaction; `_register` reads DuckDB's
        # catalog before each statement, so they come back when next needed.
        self._duck.rollback()
        return self

    def sql(self, query: str, *, params: Sequence[Any] | Mapping[str, Any] | None = None) -> Any:
        """A lazy DuckDB relation for a query (`.arrow()`, `.df()`, `.pl()`, `.write_parquet()`, …)."""
        routed = self._writes.route(query)
        if routed is not None:
            # A write runs now, as DuckDB runs its own DML in sql(); its result (the count, or the RETURNING rows)
            # comes back as a relation.
            self._rowcount = self._writes.run(routed, [params])
            with warnings.catch_warnings():
                # DuckDB warns that this copies the result: a write's result is a count or the rows written.
                warnings.simplefilter("ignore", UserWarning)
                return self._duck.from_arrow(self._duck.to_arrow_table())
        self.prepare(query)
        return self._run(self._duck.sql, query, params=params)

    query = sql

    def table(self, name: str) -> Any:
        """A DuckDB relation over one table, `schema.table` or unqualified."""
        schema, _, table = name.rpartition(".")
        self.ensure(schema or None, table)
        return self._run(self._duck.table, name)

    @property
    def rowcount(self) -> int:
        return self._duck.rowcount if self._rowcount is None else self._rowcount

    def cursor(self) -> Connection:
        """A new cursor on the same database and sources (DuckDB registrations are per cursor, so it keeps its own)."""
        return Connection(self.federation, self._duck.cursor(), owner=False)

    def close(self) -> None:
        self._duck.close()
        if self._owner:
            self.federation.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._duck, name)

    @property
    def duckdb(self) -> duckdb.DuckDBPyConnection:
        """The underlying DuckDB connection (its own methods don't register tables lazily)."""
        return self._duck

    def _run(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except duckdb.Error:
            failure = self.federation.failures.take()
            if failure is not None:
                raise failure from None
            raise

    # -- lazy registration ------------------------------------------------------------------------------------

    def prepare(self, query: str) -> None:
        """Register every source table the statement names."""
        for schema, table in referenced_tables(query):
            self.ensure(schema, table)

    def ensure(self, schema: str | None, table: str) -> None:
        """Register `schema.table` (or an unqualified name of the default source) if it names a source table."""
        if schema is None:
            default = self.federation.default
            if default is None:
                return
            key, connector = default
        else:
            found = self.federation.source(schema)
            if found is None:
                return
            key, connector = found
        canonical = connector.resolve(table)
        if canonical is None:
            if schema is None:
                return  # an ordinary DuckDB name; DuckDB reports it if it does not exist either
            close = difflib.get_close_matches(table, connector.table_names(), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise UnknownTableError(f"source {key!r} has no table {table!r}{hint}", source=connector.scheme)
        self._register(key, connector, canonical, unqualified=schema is None)

    def _register(self, key: str, connector: Connector, table: str, *, unqualified: bool) -> None:
        # Registrations and views are transactional in DuckDB: a ROLLBACK (SQLAlchemy's pool does one whenever a
        # connection is returned) removes them. So DuckDB's catalog, not a record of our own, says what exists.
        hidden = f"_duckfed_{key}_{table}"
        wanted = [("main", hidden), (key, table)] + ([("main", table)] if unqualified else [])
        present = self._existing(wanted)
        if ("main", hidden) not in present:
            source = TableSource(
                connector.table(table),
                pushdown=bool(connector.settings["Pushdown"]),
                failures=self.federation.failures,
            )
            register(self._duck, hidden, source)
        for schema, name in wanted[1:]:
            if (schema, name) in present:
                continue
            target = f'"{key}"."{table}"' if schema == "main" else f'"{hidden}"'
            self._duck.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            self._duck.execute(f'CREATE VIEW IF NOT EXISTS "{schema}"."{name}" AS SELECT * FROM {target}')

    def has_own_table(self, name: str) -> bool:
        """Whether DuckDB holds a table of this name itself (not one of our views): it keeps the unqualified name."""
        found = self._duck.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_type != 'VIEW' AND lower(table_name) = lower($1)",
            [name],
        ).fetchone()
        return found is not None

    def _existing(self, names: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (schema, name) pairs DuckDB already has, as a view or a table: a user's own table of
        the same name keeps the unqualified name."""
        rows = self._duck.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_name IN (SELECT unnest($1))",
            [[name for _, name in names]],
        ).fetchall()
        return {(schema, name) for schema, name in rows} & set(names)

    def tables(self) -> list[tuple[str, str]]:
        """Every (source, table) pair, from the sources' table lists."""
        return [(key, name) for key, c in self.federation.sources.items() for name in c.table_names()]


def referenced_tables(query: str) -> list[tuple[str | None, str]]:
    """The (schema, table) names a statement reads or writes; empty when sqlglot can't parse it."""
    try:
        statements = sqlglot.parse(query, read="duckdb")
    except SqlglotError:
        return []
    found: list[tuple[str | None, str]] = []
    for statement in statements:
        if statement is None:
            continue
        # What a CREATE or DROP names is the user's own object, not a source table to register.
        made = statement.this if isinstance(statement, exp.Create | exp.Drop) else None
        if isinstance(made, exp.Schema):
            made = made.this
        for table in statement.find_all(exp.Table):
            if table.name and not isinstance(table.this, exp.Func) and table is not made:
                found.append((table.db or None, table.name))
    return found

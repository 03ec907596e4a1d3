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
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from federation.bridge import Failures, TableSource, register
from federation.connector import Connector
from federation.errors import ConfigurationError, UnknownTableError
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
        self._lock = threading.Lock()
        self._views: set[tuple[str, str]] = set()

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

    def __init__(self, federation: Federation, duck: duckdb.DuckDBPyConnection) -> None:
        self.federation = federation
        self._duck = duck
        self._registered: set[tuple[str, str]] = set()
        self._rowcount: int | None = None

    # -- DuckDB's API, with lazy registration and our errors -------------------------------------------------

    def execute(self, query: str, parameters: Sequence[Any] | Mapping[str, Any] | None = None) -> Connection:
        self.prepare(query)
        self._rowcount = None
        self._run(self._duck.execute, query, parameters)
        return self

    def executemany(self, query: str, parameters: Iterable[Sequence[Any] | Mapping[str, Any]]) -> Connection:
        self.prepare(query)
        self._rowcount = None
        self._run(self._duck.executemany, query, list(parameters))
        return self

    def sql(self, query: str, *, params: Sequence[Any] | Mapping[str, Any] | None = None) -> Any:
        """A lazy DuckDB relation for a query (`.arrow()`, `.df()`, `.pl()`, `.write_parquet()`, …)."""
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
        return Connection(self.federation, self._duck.cursor())

    def close(self) -> None:
        self._duck.close()

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
        hidden = f"_duckfed_{key}_{table}"
        if (key, table) not in self._registered:
            source = TableSource(
                connector.table(table),
                pushdown=bool(connector.settings["Pushdown"]),
                failures=self.federation.failures,
            )
            register(self._duck, hidden, source)
            self._registered.add((key, table))
        views = [(key, table)] + ([("main", table)] if unqualified else [])
        with self.federation._lock:
            for schema, name in views:
                if (schema, name) in self.federation._views:
                    continue
                target = f'"{key}"."{table}"' if schema == "main" else f'"{hidden}"'
                self._duck.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                self._duck.execute(f'CREATE VIEW IF NOT EXISTS "{schema}"."{name}" AS SELECT * FROM {target}')
                self.federation._views.add((schema, name))

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
        for table in statement.find_all(exp.Table):
            if table.name and not isinstance(table.this, exp.Func):
                found.append((table.db or None, table.name))
    return found

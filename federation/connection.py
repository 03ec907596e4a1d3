"""A DuckDB connection whose sources' tables are views, registered lazily when a statement names them.

`connect({"fin": "financialforce:///?…", "psa": "certinia:///?…"})` gives a `Connection`: DuckDB's own API
(`execute`, `sql`, `fetchall`, `.arrow()`, `.df()`, `.pl()`, …) where `fin.Account` and `psa.pse__Proj__c` are
views over the connectors.

Registration is lazy because DuckDB reads a source's schema when it is registered, and a table's schema costs
an API call (describe): before each statement the tables it names are found with sqlglot and registered, so
connecting costs at most the table list, and a query costs only the tables it reads.

Names resolve as a SQL user expects: `fin.Account` is source `fin`'s table; an unqualified name is the user's own
DuckDB table if there is one, else the table of the one source that has it (when several have it, the error
lists them). A statement that fails raises duckfed's error for that statement only: a failed scan is the
connector's typed error whichever method ran it (relations too: `Relation`), and an unknown table suggests
source tables.
"""

from __future__ import annotations

import difflib
import functools
import re
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

from federation.bridge import CTRL_C, Failures, Relation, TableSource, register, translated
from federation.cancel import interrupts
from federation.connector import Connector
from federation.dml import Writes
from federation.errors import (
    Cancelled,
    ConfigurationError,
    Error,
    Interrupted,
    IrreversibleWriteWarning,
    ProgrammingError,
    StaleMetadata,
    UnknownTableError,
)
from federation.readback import Routed
from federation.registry import open_source
from federation.statements import referenced_tables

SourceSpec = str | Connector | Mapping[str, object]
T = TypeVar("T")
#: The table DuckDB's catalog error names (`Table with name Acount does not exist!`, or `"fn.Account"`).
_MISSING_TABLE = re.compile(r'Table with name "?(.+?)"? does not exist')


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


Found = tuple[str, Connector, str]


class Federation:
    """The sources of one database, shared by every cursor of it, and how table names resolve to them."""

    def __init__(self, sources: Mapping[str, Connector]) -> None:
        self.sources = dict(sources)

    def source(self, key: str) -> tuple[str, Connector] | None:
        lowered = key.lower()
        return next(((k, c) for k, c in self.sources.items() if k.lower() == lowered), None)

    def holders(self, table: str) -> list[Found]:
        """(source key, connector, canonical name) for every source that has a table of this name."""
        return [(key, c, name) for key, c in self.sources.items() if (name := c.resolve(table)) is not None]

    def find(self, schema: str | None, table: str) -> Found | None:
        """The source table `schema.table` names (unqualified: the one source that has it), or None when it names
        none (it may be DuckDB's own). Raises UnknownTableError when `schema` is a source without that table, and
        ProgrammingError, listing them, when several sources have an unqualified name."""
        if schema is None:
            holders = self.holders(table)
            if len(holders) > 1:
                names = " and ".join(f"{key}.{name}" for key, _, name in holders)
                raise ProgrammingError(f"table name {table!r} is ambiguous: there are {names}; qualify it")
            return holders[0] if holders else None
        found = self.source(schema)
        if found is None:
            return None
        key, connector = found
        canonical = connector.resolve(table)
        if canonical is None:
            hint = self.hint(table, within=key)
            raise UnknownTableError(f"source {key!r} has no table {table!r}{hint}", source=connector.scheme)
        return key, connector, canonical

    def locate(self, name: str) -> Found:
        """The source table a user names (`fin.Account`, or `Account` when one source has it), or the error."""
        schema, _, table = name.rpartition(".")
        if schema and self.source(schema) is None:
            raise UnknownTableError(f"no source {schema!r}; the sources are {self.listing()}")
        found = self.find(schema or None, table)
        if found is None:
            raise UnknownTableError(f"no source has a table {table!r}{self.hint(table)}")
        return found

    def hint(self, table: str, *, within: str | None = None) -> str:
        """`; did you mean fin.Account?` for the source table names closest to `table` (of one source: unqualified)."""
        named: dict[str, list[str]] = {}
        for key, connector in self.sources.items():
            if within is None or key == within:
                for name in connector.table_names():
                    named.setdefault(name.lower(), []).append(name if within else f"{key}.{name}")
        close = difflib.get_close_matches(table.lower(), list(named), n=1)
        return f"; did you mean {' or '.join(named[close[0]])}?" if close else ""

    def listing(self) -> str:
        return ", ".join(self.sources) or "(none)"

    def close(self) -> None:
        for connector in self.sources.values():
            connector.close()

    def interrupt(self, reason: str) -> None:
        """Wake every call of every source that waits on the network or a rate limit: it raises `Cancelled`."""
        for connector in self.sources.values():
            connector.interrupt(reason)

    def resume(self) -> None:
        for connector in self.sources.values():
            connector.resume()

    @property
    def timeout(self) -> float | None:
        """The shortest `QueryTimeout` any source sets, or None."""
        limits = [c.config.query_timeout for c in self.sources.values() if c.config.query_timeout]
        return min(limits) if limits else None


class Connection:
    """DuckDB's connection API over a `Federation`; every name not defined here is DuckDB's own."""

    def __init__(self, federation: Federation, duck: duckdb.DuckDBPyConnection, *, owner: bool = True) -> None:
        self.federation = federation
        self._duck = duck
        #: Whether closing this connection closes the sources too (the first connection; not its cursors).
        self._owner = owner
        self._rowcount: int | None = None
        # DuckDB looks for a Python object a query names (`SELECT * FROM df`) in the frame that called it, which
        # is one of ours: let it look on up to the user's.
        duck.execute("SET python_scan_all_frames = true")
        #: What this cursor's scans raised until their statements report it (registrations are per cursor).
        self._failures = Failures()
        self._writes = Writes(self)
        #: Why the running statement was interrupted (a timeout, Ctrl-C), while it is.
        self._interrupted: str | None = None
        #: Source tables whose metadata a scan found stale, to register afresh.
        self._stale: set[tuple[str, str]] = set()

    # -- DuckDB's API, with lazy registration and our errors -------------------------------------------------

    def execute(
        self,
        query: str,
        parameters: Sequence[Any] | Mapping[str, Any] | None = None,
        *,
        one_record_each: bool = False,
    ) -> Connection:
        """DuckDB's `execute`. With `one_record_each` (what an ORM flush expects) an UPDATE or DELETE of a source
        table whose WHERE clause matches more than one record is refused before anything is written."""
        routed = self._route(query)
        if routed is not None:
            self._rowcount = self._writes.run(routed, [parameters], one_record_each=one_record_each)
            return self
        try:
            self.run(self._duck.execute, query, parameters)
        except StaleMetadata:
            # A field the cached metadata listed is gone: the table was described again; run the statement once more.
            self._refresh_stale()
            self.prepare(query)
            self.run(self._duck.execute, query, parameters)
        return self

    def executemany(
        self,
        query: str,
        parameters: Iterable[Sequence[Any] | Mapping[str, Any]],
        *,
        one_record_each: bool = False,
    ) -> Connection:
        """DuckDB's `executemany`; many parameter sets of one write become one batched write (`federation.dml`)."""
        routed = self._route(query)
        if routed is not None:
            self._rowcount = self._writes.run(routed, list(parameters), one_record_each=one_record_each)
        else:
            self.run(self._duck.executemany, query, list(parameters))
        return self

    def _route(self, query: str) -> Routed | None:
        """The write to a source table `query` is, or None after registering the tables it names for DuckDB."""
        self._rowcount = None
        routed = self._writes.route(query)
        if routed is None:
            self.prepare(query)
        return routed

    def begin(self) -> Connection:
        """Begin a DuckDB transaction; writes to sources still reach the API as their statements run."""
        self.run(self._duck.begin)
        self._writes.pending.clear()
        return self

    def commit(self) -> Connection:
        """Commit DuckDB's transaction; the API already holds every write (they are sent as statements run)."""
        self.run(self._duck.commit)
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
        """A lazy `Relation` for a query (`.to_arrow_table()`, `.df()`, `.pl()`, `.write_parquet()`, …); None for
        a statement without rows, as DuckDB gives (typed `Any`, so a chained call needs no check, as with DuckDB)."""
        routed = self._route(query)
        if routed is not None:
            # A write runs now, as DuckDB runs its own DML in sql(); its result (the count, or the RETURNING rows)
            # comes back as a relation.
            self._rowcount = self._writes.run(routed, [params])
            with warnings.catch_warnings():
                # DuckDB warns that this copies the result: a write's result is a count or the rows written.
                warnings.simplefilter("ignore", UserWarning)
                return Relation(self._duck.from_arrow(self._duck.to_arrow_table()), self.run)
        relation = self.run(self._duck.sql, query, params=params)
        return None if relation is None else Relation(relation, self.run)

    query = sql

    def table(self, name: str) -> Relation:
        """A relation over one table, `schema.table` or unqualified."""
        schema, _, table = name.rpartition(".")
        self.ensure(schema or None, table)
        return Relation(self.run(self._duck.table, name), self.run)

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
        """DuckDB's own method, with duckfed's errors: `fetchall()` after `execute` may read scan pages too."""
        value = getattr(self._duck, name)
        if not callable(value):
            return value

        @functools.wraps(value)
        def method(*args: Any, **kwargs: Any) -> Any:
            return translated(self.run(value, *args, **kwargs), self.run)

        return method

    @property
    def duckdb(self) -> duckdb.DuckDBPyConnection:
        """The underlying DuckDB connection (its own methods don't register tables lazily)."""
        return self._duck

    def run(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call a DuckDB method, raising duckfed's error where there is one: the connector's typed error for a scan
        of this statement that failed, UnknownTableError (suggesting source tables) for a table nothing has.

        The call can be interrupted: Ctrl-C (or a notebook's interrupt) and the sources' `QueryTimeout` wake every
        scan waiting on the network or a rate limit; Ctrl-C then raises KeyboardInterrupt, a timeout `Cancelled`."""
        self.federation.resume()
        timeout = self.federation.timeout
        timer = None
        if timeout is not None:
            timer = threading.Timer(
                timeout, self.interrupt, args=(f"the statement ran past QueryTimeout={timeout:g} s",)
            )
            timer.daemon = True
            timer.start()
        try:
            with interrupts.running(functools.partial(self.interrupt, CTRL_C)):
                return method(*args, **kwargs)
        except KeyboardInterrupt:
            self.interrupt(CTRL_C)
            raise
        except (duckdb.Error, pa.ArrowException, OSError) as error:
            # Arrow reports a DuckDB stream that failed mid-read as an OSError carrying DuckDB's text.
            ours = self._failures.raised(error) or self._unknown_table(error)
            if ours is None and isinstance(error, duckdb.InterruptException) and self._interrupted is not None:
                ours = (Interrupted if self._interrupted == CTRL_C else Cancelled)(self._interrupted)
            if isinstance(ours, Interrupted):
                raise KeyboardInterrupt(ours.message) from None
            if ours is None:
                raise
            raise ours from None
        finally:
            if timer is not None:
                timer.cancel()
            self._interrupted = None

    def interrupt(self, reason: str = "the statement was interrupted") -> None:
        """Stop the running statement: wake the sources' waiting calls and interrupt DuckDB (thread-safe)."""
        self._interrupted = reason
        self.federation.interrupt(reason)
        self._duck.interrupt()

    def _refresh_stale(self) -> None:
        """Drop the registrations of tables whose metadata went stale, so the next statement describes them."""
        while self._stale:
            key, table = self._stale.pop()
            hidden = f"_duckfed_{key}_{table}"
            self._duck.unregister(hidden)
            for schema, name in ((key, table), ("main", table)):
                self._duck.execute(f'DROP VIEW IF EXISTS "{schema}"."{name}"')

    def _unknown_table(self, error: Exception) -> Error | None:
        found = _MISSING_TABLE.search(str(error)) if isinstance(error, duckdb.CatalogException) else None
        if found is None:
            return None
        schema, _, table = found.group(1).rpartition(".")
        if schema and self.federation.source(schema) is None:
            return UnknownTableError(f"no source or schema {schema!r}; the sources are {self.federation.listing()}")
        return UnknownTableError(f"no table {found.group(1)!r}{self.federation.hint(table)}")

    # -- lazy registration ------------------------------------------------------------------------------------

    def prepare(self, query: str) -> None:
        """Register every source table the statement names."""
        for schema, table in referenced_tables(query):
            self.ensure(schema, table)

    def ensure(self, schema: str | None, table: str) -> None:
        """Register the source table `schema.table` names, if it names one (see `target`)."""
        found = self.target(schema, table)
        if found is not None:
            self._register(*found, unqualified=schema is None)

    def target(self, schema: str | None, table: str) -> Found | None:
        """The source table a statement's `schema.table` names, or None for a name DuckDB resolves itself: a
        user's own DuckDB table keeps its unqualified name."""
        if schema is None and (not self.federation.holders(table) or self.has_own_table(table)):
            return None
        return self.federation.find(schema, table)

    def _register(self, key: str, connector: Connector, table: str, *, unqualified: bool) -> None:
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
                interrupted=self.federation.interrupt,
                stale=functools.partial(self._mark_stale, key, connector, table),
            )
            register(self._duck, source)
        for schema, name in wanted[1:]:
            if (schema, name) in present:
                continue
            target = f'"{key}"."{table}"' if schema == "main" else f'"{hidden}"'
            self._duck.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            self._duck.execute(f'CREATE VIEW IF NOT EXISTS "{schema}"."{name}" AS SELECT * FROM {target}')

    def _mark_stale(self, key: str, connector: Connector, table: str) -> None:
        connector.forget_metadata(table)
        self._stale.add((key, table))

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

"""A DuckDB connection whose sources' tables are views, registered lazily when a statement names them.

`connect({"fin": "financialforce:///?…", "psa": "certinia:///?…"})` gives a `Connection`: DuckDB's own API
(`execute`, `sql`, `fetchall`, `.arrow()`, `.df()`, `.pl()`, …) where `fin.Account` and `psa.pse__Proj__c` are
views over the connectors.

Registration is lazy because DuckDB reads a source's schema when it is registered, and a table's schema costs
an API call (describe): before each statement the tables it names are found with sqlglot and registered
(`federation.registrations`), so connecting costs at most the table list, and a query costs only the tables it
reads. Then `federation.planner` rewrites the statement so that the API computes the aggregates, orders and
limits it can compute exactly, and an EXPLAIN also shows the API requests the statement will make
(`federation.explainer`).

Names resolve as a SQL user expects: `fin.Account` is source `fin`'s table; an unqualified name is the user's own
DuckDB table if there is one, else the table of the one source that has it (when several have it, the error
lists them). A statement that fails raises duckfed's error for that statement only: a failed scan is the
connector's typed error whichever method ran it (relations too: `federation.relation`), and an unknown table
suggests source tables.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

from federation import copy_options
from federation.cancel import Statement, interrupts, within
from federation.connector import Connector
from federation.dml import Writes
from federation.errors import (
    Cancelled,
    Error,
    Interrupted,
    IrreversibleWriteWarning,
    StaleMetadata,
    UnknownTableError,
)
from federation.explainer import ROWS_QUERY, Explainer
from federation.failures import CTRL_C, Failures
from federation.kept_views import refuse_stored_views
from federation.planner import Plan, Planner
from federation.progress import Progress
from federation.readback import Routed
from federation.registrations import Registrations, drop_views
from federation.registry import open_source
from federation.relation import Relation, translated
from federation.sources import Federation, Found, check_key
from federation.statements import referenced_tables
from federation.table import Table

SourceSpec = str | Connector | Mapping[str, object]
T = TypeVar("T")
#: The table DuckDB's catalog error names (`Table with name Acount does not exist!`, or `"fn.Account"`).
_MISSING_TABLE = re.compile(r'Table with name "?(.+?)"? does not exist')
#: The storage version of the database files duckfed creates: the newest the DuckDB 1.5 CLI reads.
STORAGE_VERSION = "v1.5.0"
#: A database named by URI (`md:…`, `s3://…`), not a local file (a one-letter scheme is a Windows drive).
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:")


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
                check_key(key)
                opened[key] = open_source(spec)  # type: ignore[arg-type]  # a Mapping[str, SourceSpec] here
        except BaseException:
            for connector in opened.values():
                connector.close()
            raise
    con = Connection(Federation(opened), _open(database))
    drop_views(con.duckdb)  # those a process that ended without closing its connection left in a database file
    return con


def _open(database: str) -> duckdb.DuckDBPyConnection:
    """DuckDB on `database`. A file that does not exist yet is first created in `STORAGE_VERSION`, which DuckDB
    keeps for the file's later writes, so that the DuckDB CLI from the package index (1.5) opens it too."""
    if not database.startswith(":memory:") and not _URI.match(database) and not os.path.exists(database):
        path = database.replace("'", "''")
        with duckdb.connect() as maker:
            maker.execute(f"ATTACH '{path}' AS created (STORAGE_VERSION '{STORAGE_VERSION}')")
    return duckdb.connect(database)


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
        #: The bar of statements that run longer than a second (`federation.progress`); scans count into it.
        self.progress = Progress(federation.sources)
        #: What this cursor's scans raised until their statements report it (registrations are per cursor).
        self._failures = Failures(self.progress)
        #: This cursor's running statement as its API calls see it: what stops it, and only it, and the calls it
        #: sent (`federation.cancel`).
        self._statement = Statement()
        self._registered = Registrations(duck, federation, self._failures, self._statement)
        self._writes = Writes(self)
        self._explainer = Explainer(self, self._writes, self._registered, self._planned)
        #: Why the running statement was interrupted (a timeout, Ctrl-C), while it is.
        self._interrupted: str | None = None
        self._planner = Planner(self._pushing, self._defaults)

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
            with within(self._statement):
                self._rowcount = self._writes.run(routed, [parameters], one_record_each=one_record_each)
            return self
        try:
            self._execute(query, parameters)
        except StaleMetadata:
            # A field the cached metadata listed is gone: the table was described again; run the statement once more.
            self._registered.refresh_stale()
            self.prepare(query)
            self._execute(query, parameters)
        return self

    def _execute(self, query: str, parameters: Sequence[Any] | Mapping[str, Any] | None) -> None:
        plan = self._planned(query, parameters)
        if plan.explain:
            self.run(self._duck.execute, ROWS_QUERY, self._explainer.rows(plan, parameters))
        else:
            self.run(self._duck.execute, plan.sql, parameters)

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
            with within(self._statement):
                self._rowcount = self._writes.run(routed, list(parameters), one_record_each=one_record_each)
        else:
            self.run(self._duck.executemany, query, list(parameters))
        return self

    def _route(self, query: str) -> Routed | None:
        """The write to a source table `query` is, or None after registering the tables it names for DuckDB."""
        self._rowcount = None
        self._statement.begin()  # for MaxCalls: reading its rows later still counts as this statement
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
        # A rollback also drops views and sources registered inside the transaction; `Registrations` reads
        # DuckDB's catalog before each statement, so they come back when next needed.
        self._duck.rollback()
        return self

    def sql(self, query: str, *, params: Sequence[Any] | Mapping[str, Any] | None = None) -> Any:
        """A lazy `Relation` for a query (`.to_arrow_table()`, `.df()`, `.pl()`, `.write_parquet()`, …); None for
        a statement without rows, as DuckDB gives (typed `Any`, so a chained call needs no check, as with DuckDB)."""
        routed = self._route(query)
        if routed is not None:
            # A write runs now, as DuckDB runs its own DML in sql(); its result (the count, or the RETURNING rows)
            # comes back as a relation.
            with within(self._statement):
                self._rowcount = self._writes.run(routed, [params])
            with warnings.catch_warnings():
                # DuckDB warns that this copies the result: a write's result is a count or the rows written.
                warnings.simplefilter("ignore", UserWarning)
                return Relation(self._duck.from_arrow(self._duck.to_arrow_table()), self.run)
        plan = self._planned(query, params)
        if plan.explain:
            relation = self.run(self._duck.sql, ROWS_QUERY, params=self._explainer.rows(plan, params))
        else:
            relation = self.run(self._duck.sql, plan.sql, params=params)
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
        if self._owner:
            with contextlib.suppress(duckdb.ConnectionException):  # closed before
                drop_views(self._duck)
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
        self._statement.token.reset()
        timeout = self.federation.timeout
        timer = None
        if timeout is not None:
            timer = threading.Timer(
                timeout, self.interrupt, args=(f"the statement ran past QueryTimeout={timeout:g} s",)
            )
            timer.daemon = True
            timer.start()
        try:
            with (
                interrupts.running(functools.partial(self.interrupt, CTRL_C)),
                self.progress.activity(),
                within(self._statement),
            ):
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
        """Stop the running statement: wake its waiting calls (not those of another cursor's) and interrupt DuckDB
        (thread-safe)."""
        self._interrupted = reason
        self._statement.token.cancel(reason)
        self._duck.interrupt()

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
        """Register every source table the statement names (refusing a view stored in a file over them)."""
        named = referenced_tables(query)
        sources = [f"{found[0]}.{found[2]}" for found in (self.target(*name) for name in named) if found is not None]
        if sources:
            refuse_stored_views(self._duck, query, sources)
        for schema, table in named:
            self.ensure(schema, table)

    def ensure(self, schema: str | None, table: str) -> None:
        """Register the source table `schema.table` names, if it names one (see `target`)."""
        found = self.target(schema, table)
        if found is not None:
            self._registered.table(*found, unqualified=schema is None)

    def target(self, schema: str | None, table: str) -> Found | None:
        """The source table a statement's `schema.table` names, or None for a name DuckDB resolves itself: a
        user's own DuckDB table keeps its unqualified name."""
        if schema is None and (not self.federation.holders(table) or self.has_own_table(table)):
            return None
        return self.federation.find(schema, table)

    # -- pushdown by rewriting (`federation.planner`) -----------------------------------------------------------

    def _planned(self, query: str, parameters: Sequence[Any] | Mapping[str, Any] | None = None) -> Plan:
        """The statement with its aggregates, orders and limits pushed where the tables can, after registering the
        sources the rewritten statement names; a Parquet export of source tables also streams (`copy_options`)."""
        streamed = copy_options.streaming(query)
        if streamed is not None and any(self.target(*name) is not None for name in referenced_tables(query)):
            query = streamed
        plan = self._planner.plan(query, parameters)
        for source in plan.sources:
            self._registered.planned(source)
        return plan

    def _pushing(self, schema: str | None, table: str) -> tuple[str, Table] | None:
        """The source key and table a statement's `schema.table` names, when it is a source table that pushes."""
        found = self.target(schema, table)
        if found is None or not found[1].settings["Pushdown"]:
            return None
        key, connector, name = found
        return key, connector.table(name)

    def _defaults(self) -> tuple[str, str, str]:
        """DuckDB's default null order, sort order and collation, as this connection has them set."""
        (row,) = self._duck.execute(
            "SELECT current_setting('default_null_order'), current_setting('default_order'), "
            "current_setting('default_collation')"
        ).fetchall()
        return str(row[0]).upper(), str(row[1]).upper(), str(row[2])

    def has_own_table(self, name: str) -> bool:
        """Whether DuckDB holds a table of this name itself (not one of our views): it keeps the unqualified name."""
        found = self._duck.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_type != 'VIEW' AND lower(table_name) = lower($1)",
            [name],
        ).fetchone()
        return found is not None

    def tables(self) -> list[tuple[str, str]]:
        """Every (source, table) pair, from the sources' table lists."""
        return [(key, name) for key, c in self.federation.sources.items() for name in c.table_names()]

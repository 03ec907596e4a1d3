"""The SQLAlchemy dialect base: duckdb-engine's dialect over a federated connection to one source.

Each connector registers a subclass under its scheme (`financialforce://`) through the `sqlalchemy.dialects`
entry points. The URL's query string holds the connection properties exactly as the vendors write them
(`financialforce:///?User=myUser&Password=myPassword&Security Token=myToken`). Reflection answers from the
connector's metadata, so `inspect(engine).get_table_names()` lists every table without describing each one.

An ORM flush expects each UPDATE or DELETE to change exactly one row per parameter set; the dialect recognises
the flush's statements (`orm_flush`) and tells the connection, which refuses one whose WHERE clause would reach
more records, as it would when the ORM's primary key is not the table's.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, ClassVar

import duckdb
import duckdb_engine
import pyarrow as pa
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects.postgresql.base import PGCompiler
from sqlalchemy.engine import URL, Engine
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.engine.interfaces import ReflectedColumn, ReflectedPrimaryKeyConstraint, ReflectedTableComment
from sqlalchemy.schema import FetchedValue

from federation import errors
from federation.connection import Connection
from federation.connector import Connector
from federation.errors import UnknownTableError
from federation.registry import connector_class, properties_of
from federation.settings import redacted
from federation.sources import Federation
from federation.table import TableInfo


class DBAPI(duckdb_engine.DBAPI):
    """duckdb-engine's DB-API module, whose errors also cover ours, so SQLAlchemy wraps both alike."""

    Error = (duckdb.Error, errors.Error)


class FederatedConnectionWrapper(duckdb_engine.ConnectionWrapper):
    """duckdb-engine's connection wrapper, keeping a handle on the federated connection for reflection."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)  # type: ignore[arg-type]
        self.federated = connection


def _arrow_to_sqlalchemy(kind: pa.DataType) -> sqltypes.TypeEngine[Any]:
    if pa.types.is_string(kind):
        return sqltypes.String()
    if pa.types.is_boolean(kind):
        return sqltypes.Boolean()
    if pa.types.is_integer(kind):
        return sqltypes.BigInteger()
    if pa.types.is_floating(kind):
        return sqltypes.Float()
    if pa.types.is_decimal(kind):
        return sqltypes.Numeric(kind.precision, kind.scale)
    if pa.types.is_date(kind):
        return sqltypes.Date()
    if pa.types.is_timestamp(kind):
        return sqltypes.DateTime(timezone=kind.tz is not None)
    if pa.types.is_time(kind):
        return sqltypes.Time()
    return sqltypes.NullType()


def redacted_url(url: URL, scheme: str) -> URL:
    """`url` for reprs and logs: every property value that is not known to be harmless to `scheme`'s connector
    is masked (a misspelt `Pasword` too)."""
    raw = {k: v for k, v in url.query.items() if isinstance(v, str)}
    return url.set(query=redacted(connector_class(scheme).all_properties(), raw))


def orm_flush(context: Any) -> bool:
    """Whether a statement is an UPDATE or DELETE of an ORM flush, which expects one row per parameter set.

    The unit of work runs Core statements with one execution option of its own: the mapper's statement cache
    (`compiled_cache`, see `sqlalchemy.orm.persistence`). A user's `update()`/`delete()`, even of a mapped class
    and with a `compiled_cache` of their own, keeps its SQL meaning. A test pins this reading of SQLAlchemy's
    internals (`test_the_dialect_recognises_exactly_the_flushs_updates_and_deletes` in
    `tests/connectors/salesforce/test_orm_writes.py`).
    """
    if context is None or context.compiled is None or not (context.isupdate or context.isdelete):
        return False
    cache = context.execution_options.get("compiled_cache")
    table = getattr(context.compiled.statement, "table", None)
    # Only the ORM maps classes, and importing it would cost a Core-only process 0.1 s: unimported, nothing is mapped.
    if cache is None or table is None or "sqlalchemy.orm" not in sys.modules:
        return False
    from sqlalchemy.orm import mapperlib

    return any(
        mapper.base_mapper._compiled_cache is cache
        for registry in mapperlib._all_registries()
        for mapper in registry.mappers
        if table in mapper.tables
    )


#: Held while an INSERT compiles with its key columns marked as server-generated (see `visit_insert`).
_KEY_MARKING = threading.RLock()


class FederationCompiler(PGCompiler):
    """duckdb-engine's SQL compiler, fetching the keys the API assigns to inserted rows, in batches."""

    def visit_insert(self, insert_stmt: Any, *args: Any, **kwargs: Any) -> str:
        # The API assigns every record's key, but SQLAlchemy only asks RETURNING for a key it expects the server
        # to generate: an autoincrement integer or a column with a server default. So while this INSERT compiles,
        # a key column declared plainly (`Id: Mapped[str] = mapped_column(primary_key=True)`) counts as one.
        # The lock keeps another thread's compile of the same table from seeing (or restoring) the marker early.
        table = insert_stmt.table
        with _KEY_MARKING:
            plain = [
                c
                for c in getattr(table, "primary_key", ())
                if c.default is None and c.server_default is None and c is not table._autoincrement_column
            ]
            for column in plain:
                column.server_default = FetchedValue()
            try:
                return str(super().visit_insert(insert_stmt, *args, **kwargs))  # type: ignore[no-untyped-call]
            finally:
                for column in plain:
                    column.server_default = None

    def _deliver_insertmanyvalues_batches(self, *args: Any, **kwargs: Any) -> Any:
        # The ORM asks for RETURNING rows sorted like the parameters, and without a sentinel column SQLAlchemy
        # would send one INSERT per row for that. `federation.dml` already returns the rows of a write to a
        # source in VALUES order (the keys the API assigned, row for row), so multi-row batches keep the order.
        if len(args) >= 6:
            args = (*args[:5], False, *args[6:])
        else:
            kwargs["sort_by_parameter_order"] = False
        return super()._deliver_insertmanyvalues_batches(*args, **kwargs)


class FederationDialect(duckdb_engine.Dialect):
    """A dialect for one source scheme; subclasses set `scheme`."""

    scheme: ClassVar[str]
    supports_statement_cache = False
    # DuckDB hands DECIMAL columns to Python as Decimal already; SQLAlchemy's conversion would only reformat them.
    supports_native_decimal = True
    statement_compiler = FederationCompiler
    # A write's rowcount is the number of records the API changed (`federation.dml`), so the ORM's stale-row
    # checks hold, for executemany too (one batched write whose count is the sum).
    supports_sane_rowcount = True
    supports_sane_multi_rowcount = True

    @classmethod
    def import_dbapi(cls) -> type[DBAPI]:  # type: ignore[override]
        return DBAPI

    @staticmethod
    def dbapi(**kwargs: Any) -> type[DBAPI]:  # type: ignore[override]
        return DBAPI

    def create_connect_args(self, url: URL) -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (), {"properties": properties_of(url)}

    def connect(self, *cargs: Any, **cparams: Any) -> FederatedConnectionWrapper:  # type: ignore[override]
        connector = connector_class(self.scheme)(cparams["properties"])
        try:
            return FederatedConnectionWrapper(Connection(Federation({self.scheme: connector}), duckdb.connect()))
        except BaseException:
            connector.close()
            raise

    def do_execute(self, cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        if orm_flush(context):
            self._connection_of(cursor).execute(statement, parameters, one_record_each=True)
        else:
            super().do_execute(cursor, statement, parameters, context)  # type: ignore[no-untyped-call]

    def do_executemany(self, cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        if orm_flush(context):
            self._connection_of(cursor).executemany(statement, parameters, one_record_each=True)
        else:
            super().do_executemany(cursor, statement, parameters, context)

    @staticmethod
    def _connection_of(cursor: Any) -> Connection:
        wrapper = cursor.connection
        assert isinstance(wrapper, FederatedConnectionWrapper)
        return wrapper.federated

    @classmethod
    def engine_created(cls, engine: Engine) -> None:
        """Mask the secrets in `engine.url` (`redacted_url`); the pool already holds the real ones."""
        engine.url = redacted_url(engine.url, cls.scheme)

    @staticmethod
    def _federated(connection: Any) -> Connection:
        wrapper = connection.connection.dbapi_connection
        assert isinstance(wrapper, FederatedConnectionWrapper)
        return wrapper.federated

    def _source(self, connection: Any, schema: str | None) -> Connector | None:
        """The source whose tables reflection finds in `schema`, or None when it names none: here the one source,
        in its own schema or the default one."""
        if schema not in (None, "main", self.scheme):
            return None
        return self._federated(connection).federation.sources[self.scheme]

    def _info(self, connection: Any, table_name: str, schema: str | None) -> TableInfo:
        connector = self._source(connection, schema)
        if connector is None:
            names = ", ".join(self._federated(connection).federation.sources)
            raise UnknownTableError(f"no source schema {schema!r}; the tables are in {names}")
        return connector.table(table_name).info

    def get_table_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        connector = self._source(connection, schema)
        return connector.table_names() if connector is not None else []

    def has_table(self, connection: Any, table_name: str, schema: str | None = None, **kw: Any) -> bool:
        connector = self._source(connection, schema)
        return connector is not None and connector.resolve(table_name) is not None

    def get_view_names(
        self, connection: Any, schema: str | None = None, include: Any | None = None, **kw: Any
    ) -> list[str]:
        return []

    def get_columns(
        self, connection: Any, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[ReflectedColumn]:
        info = self._info(connection, table_name, schema)
        return [
            {
                "name": c.name,
                "type": _arrow_to_sqlalchemy(c.type),
                "nullable": c.nullable,
                "default": None,
                "comment": c.description or None,
            }
            for c in info.columns
        ]

    def get_pk_constraint(
        self, connection: Any, table_name: str, schema: str | None = None, **kw: Any
    ) -> ReflectedPrimaryKeyConstraint:
        info = self._info(connection, table_name, schema)
        key = info.primary_key
        return {"constrained_columns": [key.name] if key else [], "name": None}

    def get_foreign_keys(self, connection: Any, table_name: str, schema: str | None = None, **kw: Any) -> list[Any]:
        return []

    def get_indexes(self, connection: Any, table_name: str, schema: str | None = None, **kw: Any) -> list[Any]:
        return []

    def get_unique_constraints(
        self, connection: Any, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[Any]:
        return []

    def get_check_constraints(
        self, connection: Any, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[Any]:
        return []

    def get_table_comment(
        self, connection: Any, table_name: str, schema: str | None = None, **kw: Any
    ) -> ReflectedTableComment:
        return {"text": self._info(connection, table_name, schema).description or None}

    def get_table_options(
        self, connection: Any, table_name: str, schema: str | None = None, **kw: Any
    ) -> dict[str, Any]:
        return {}

    # The PostgreSQL dialect answers the get_multi_* calls with pg_catalog queries that know nothing of the
    # connector's tables; SQLAlchemy's defaults build them from the single-table methods above instead.
    get_multi_columns = DefaultDialect.get_multi_columns  # type: ignore[assignment]
    get_multi_pk_constraint = DefaultDialect.get_multi_pk_constraint  # type: ignore[assignment]
    get_multi_foreign_keys = DefaultDialect.get_multi_foreign_keys  # type: ignore[assignment]
    get_multi_indexes = DefaultDialect.get_multi_indexes  # type: ignore[assignment]
    get_multi_unique_constraints = DefaultDialect.get_multi_unique_constraints  # type: ignore[assignment]
    get_multi_check_constraints = DefaultDialect.get_multi_check_constraints  # type: ignore[assignment]
    get_multi_table_comment = DefaultDialect.get_multi_table_comment  # type: ignore[assignment]
    get_multi_table_options = DefaultDialect.get_multi_table_options  # type: ignore[assignment]

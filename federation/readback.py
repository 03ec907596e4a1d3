"""Reading written records back: which keys exist, and the rows a statement's RETURNING gives, for a write
statement routed to a source table (`Routed`), on a connection seen as a `Database`.

A lookup by key is a DuckDB query over the source's view with an IN list, which the bridge pushes to the API, so
it costs one query call per `KEYS_PER_LOOKUP` keys. RETURNING gives the written rows as the statement wrote them
(the keys the API assigned, the values it was sent); any other column it asks for is read back from the API, so
it shows what the API holds after the write (formula fields, audit stamps).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from federation.connector import Connector
from federation.errors import Error, NotSupportedError
from federation.statements import DIALECT, Write, returning_query
from federation.table import Column, Table, TableInfo

T = TypeVar("T")
Parameters = Sequence[Any] | Mapping[str, Any] | None


class Database(Protocol):
    """The DuckDB connection writes read through, and how a DuckDB call raises duckfed's errors."""

    @property
    def duckdb(self) -> duckdb.DuckDBPyConnection: ...

    def run(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call `method`; a scan that fails raises the connector's error, not DuckDB's wrapper of it."""
        ...


@dataclass(frozen=True)
class Routed:
    """A write statement whose target is a source table."""

    write: Write
    source: str
    connector: Connector
    table: Table

    @property
    def info(self) -> TableInfo:
        return self.table.info

    @property
    def view(self) -> str:
        return f'"{self.source}"."{self.info.name}"'

    @property
    def key(self) -> Column:
        """The column records are written by."""
        key = self.info.primary_key
        if key is None:
            raise self.fail(NotSupportedError, f"table {self.info.name!r} has no key to write rows by")
        return key

    def fail(self, error: type[Error], message: str) -> Error:
        """An error of our tree with this statement's context."""
        return error(message, source=self.connector.scheme, operation=f"{self.write.kind.value} {self.info.name}")


#: Keys per lookup query: an IN list this long keeps the API's GET URL well under its length limit.
KEYS_PER_LOOKUP = 200
_RESULT = "__duckfed_result"


def select(connection: Database, sql: str | exp.Expr, parameters: Parameters) -> pa.Table:
    """A query's rows as Arrow, run on the connection's DuckDB with our errors for a failed scan."""
    text = sql if isinstance(sql, str) else sql.sql(DIALECT)
    duck = connection.duckdb
    table: pa.Table = connection.run(lambda: duck.sql(text, params=parameters or None).to_arrow_table())
    return table


def lookup(connection: Database, routed: Routed, keys: Sequence[object], columns: Sequence[str]) -> pa.Table:
    """The records with these keys (those that exist), key first then `columns`."""
    key = routed.key
    names = [key.name, *(c for c in columns if c != key.name)]
    listed = ", ".join(f'"{n}"' for n in names)
    pieces = []
    # Chunks of the table's own lookup size (Exact Online's URL cap fits fewer GUIDs than Salesforce's Ids).
    per_call = routed.info.keys_per_lookup or KEYS_PER_LOOKUP
    for start in range(0, len(keys), per_call):
        chunk = list(dict.fromkeys(keys[start : start + per_call]))
        marks = ", ".join(f"${i}" for i in range(1, len(chunk) + 1))
        pieces.append(select(connection, f'SELECT {listed} FROM {routed.view} WHERE "{key.name}" IN ({marks})', chunk))
    schema = pa.schema([routed.info.schema.field(n) for n in names])
    return pa.concat_tables([p.cast(schema) for p in pieces]) if pieces else schema.empty_table()


def returned_columns(routed: Routed) -> list[str]:
    """The target columns the statement's RETURNING reads, in table order."""
    if not routed.write.returning():
        return []
    wanted = routed.write.returned_columns()
    if wanted is None:
        return [c.name for c in routed.info.columns]
    names = {routed.info.column(name).name for name in wanted}
    return [c.name for c in routed.info.columns if c.name in names]


def returned(connection: Database, routed: Routed, written: pa.Table) -> pa.Table | None:
    """The written rows with every column RETURNING reads; those the statement did not write (nor read, for a
    DELETE) are read back by key."""
    wanted = returned_columns(routed)
    if not wanted:
        return None
    key = routed.key
    missing = [name for name in wanted if name not in written.column_names]
    if missing:
        fetched = lookup(connection, routed, written.column(key.name).to_pylist(), missing)
        order = pc.index_in(written.column(key.name), value_set=fetched.column(key.name).combine_chunks())
        for name in missing:
            written = written.append_column(name, fetched.column(name).take(order))
    return written.select(wanted)


def answer(connection: Database, routed: Routed, count: int, rows: Sequence[pa.Table | None]) -> None:
    """Leave the statement's result on the DuckDB connection, so `fetchall()` and `description` behave as for
    DuckDB's own DML: its RETURNING rows, else one row with the count."""
    duck = connection.duckdb
    if routed.write.returning():
        tables = [t for t in rows if t is not None]
        schema = pa.schema([routed.info.schema.field(n) for n in returned_columns(routed)])
        duck.register(_RESULT, pa.concat_tables(tables) if tables else schema.empty_table())
        sql = returning_query(routed.write, _RESULT).sql(DIALECT)
    else:
        sql = f'SELECT {int(count)}::BIGINT AS "Count"'
    connection.run(duck.execute, sql)

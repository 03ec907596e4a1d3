"""Reading written records back: which keys exist, and the rows a statement's RETURNING gives.

A lookup by key is a DuckDB query over the source's view with an IN list, which the bridge pushes to the API, so
it costs one query call per `KEYS_PER_LOOKUP` keys. RETURNING gives the written rows as the statement wrote them
(the keys the API assigned, the values it was sent); any other column it asks for is read back from the API, so
it shows what the API holds after the write (formula fields, audit stamps).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from federation.statements import DIALECT, returning_query

if TYPE_CHECKING:
    from federation.connection import Connection
    from federation.dml import Parameters, Routed

#: Keys per lookup query: an IN list this long keeps the API's GET URL well under its length limit.
KEYS_PER_LOOKUP = 200
_RESULT = "__duckfed_result"


def select(connection: Connection, sql: str | exp.Expr, parameters: Parameters) -> pa.Table:
    """A query's rows as Arrow, run on the connection's DuckDB with our errors for a failed scan."""
    text = sql if isinstance(sql, str) else sql.sql(DIALECT)
    duck = connection.duckdb
    table: pa.Table = connection._run(lambda: duck.sql(text, params=parameters or None).to_arrow_table())
    return table


def lookup(connection: Connection, routed: Routed, keys: Sequence[object], columns: Sequence[str]) -> pa.Table:
    """The records with these keys (those that exist), key first then `columns`."""
    key = routed.key
    names = [key.name, *(c for c in columns if c != key.name)]
    listed = ", ".join(f'"{n}"' for n in names)
    pieces = []
    for start in range(0, len(keys), KEYS_PER_LOOKUP):
        chunk = list(dict.fromkeys(keys[start : start + KEYS_PER_LOOKUP]))
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


def returned(connection: Connection, routed: Routed, written: pa.Table) -> pa.Table | None:
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


def answer(connection: Connection, routed: Routed, count: int, rows: Sequence[pa.Table | None]) -> None:
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
    connection._run(duck.execute, sql)

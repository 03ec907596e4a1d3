"""Values cast to their columns' Arrow types with DuckDB's own casts, before a write sends them to an API.

A write stores what an INSERT into a DuckDB table would ('2024-02-03' becomes a date, 1500 a decimal), and a
value that does not fit is refused before any API call, naming its column and row. That includes dates and
timestamps DuckDB holds but an API can't (`DATE '99999-01-01'`): APIs, like Python, take years 1 to 9999.
(Filters on such values need no check: DuckDB's filter nodes mark them inexact, so they are never pushed.)
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from federation.errors import DataError
from federation.table import Column

_RAW = "__duckfed_raw"


def duckdb_type(kind: pa.DataType) -> str | None:
    """The DuckDB type whose values convert to `kind` exactly, or None to leave a value as DuckDB gave it."""
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "VARCHAR"
    if pa.types.is_boolean(kind):
        return "BOOLEAN"
    if pa.types.is_integer(kind):
        return "BIGINT"
    if pa.types.is_floating(kind):
        return "DOUBLE"
    if pa.types.is_decimal(kind):
        return f"DECIMAL({kind.precision}, {kind.scale})"
    if pa.types.is_date(kind):
        return "DATE"
    if pa.types.is_timestamp(kind):
        return "TIMESTAMPTZ" if kind.tz is not None else "TIMESTAMP"
    if pa.types.is_time(kind):
        return "TIME"
    return None


def first_true(mask: pa.ChunkedArray | pa.Array) -> int:
    """The index of the first true value of a boolean array."""
    return int(pc.index(mask, True).as_py())


def cast_rows(duck: duckdb.DuckDBPyConnection, rows: pa.Table, columns: Sequence[Column]) -> pa.Table:
    """`rows` (one column per entry of `columns`, by name) as the columns' Arrow types, or the DataError naming
    the first value that does not fit."""
    casts: list[exp.Expr] = []
    for column in columns:
        name = exp.column(exp.to_identifier(column.name, quoted=True))
        kind = duckdb_type(column.type)
        if kind is None or rows.schema.field(column.name).type == column.type:
            casts.append(name)
        else:
            target = exp.DataType.build(kind, dialect="duckdb")
            casts.append(exp.alias_(exp.TryCast(this=name, to=target), column.name, quoted=True))
    if not casts:
        return rows
    duck.register(_RAW, rows)
    try:
        cast = duck.sql(exp.select(*casts).from_(exp.to_table(_RAW)).sql("duckdb")).to_arrow_table()
    finally:
        duck.unregister(_RAW)
    for column in columns:
        before, after = rows.column(column.name), cast.column(column.name)
        # TRY_CAST gives NULL for what does not convert: a value that was there and is gone did not fit.
        lost = pc.and_(pc.is_valid(before), pc.is_null(after))
        if pc.any(lost).as_py():
            row = first_true(lost)
            raise DataError(
                f"value {before[row].as_py()!r} in row {row + 1} does not fit column {column.name!r} ({column.type})"
            )
        _check_years(duck, column, after)
    return pa.table([cast.column(c.name).cast(c.type) for c in columns], names=[c.name for c in columns])


def _check_years(duck: duckdb.DuckDBPyConnection, column: Column, values: pa.ChunkedArray) -> None:
    bounds = _bounds(values.type)
    if bounds is None:
        return
    outside = pc.or_(pc.less(values, bounds[0]), pc.greater(values, bounds[1]))
    if pc.any(outside).as_py():
        row = first_true(outside)
        # DuckDB writes the value: neither Python nor Arrow's formatting reaches past year 9999.
        duck.register(_RAW, pa.table({"value": values.slice(row, 1)}))
        try:
            [(text,)] = duck.sql(f"SELECT CAST(value AS VARCHAR) FROM {_RAW}").fetchall()
        finally:
            duck.unregister(_RAW)
        raise DataError(
            f"value {text!r} in row {row + 1} does not fit column {column.name!r} ({column.type}): "
            "the API takes years 1 to 9999"
        )


def _bounds(kind: pa.DataType) -> tuple[pa.Scalar, pa.Scalar] | None:
    """The first and last instant of years 1 to 9999 as `kind`, for date and timestamp types."""
    if pa.types.is_date(kind):
        return pa.scalar(datetime.date.min, kind), pa.scalar(datetime.date.max, kind)
    if not pa.types.is_timestamp(kind):
        return None
    zone = datetime.UTC if kind.tz is not None else None
    try:
        return (
            pa.scalar(datetime.datetime.min.replace(tzinfo=zone), kind),
            pa.scalar(datetime.datetime.max.replace(tzinfo=zone), kind),
        )
    except (pa.ArrowInvalid, OverflowError):
        return None  # nanoseconds: the type itself can't leave those years

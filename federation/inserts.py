"""The INSERT path of a write to a source table (`federation.dml`): the rows it gives, evaluated by DuckDB with
the statement's parameters (or taken straight from them when every value is a placeholder), checked against
the table's metadata, cast to the columns' types and sent as the table's batch inserts.

It is apart from the UPDATE/DELETE path because an INSERT finds no records: its rows come from the statement
alone, and its checks (required columns, columns the API sets) are its own. `Writes` in `federation.dml` routes
the statement here and gives the one function that sends a write (`Send`), which counts the records written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pyarrow as pa

from federation.casting import cast_rows
from federation.errors import IntegrityError, ProgrammingError, ReadOnlyError
from federation.readback import Database, Parameters, Routed, returned, select
from federation.statements import (
    DIALECT,
    ORDINAL,
    bare_placeholders,
    check_insert,
    check_placeholders,
    maybe_null,
    rows_query,
)
from federation.table import Column, WriteResult
from federation.write_checks import check_values_present, written_columns

#: Sends a write of `records` records (`call`) to the API, within the call budget, counting what it wrote.
Send = Callable[[Routed, int, Callable[[], WriteResult]], WriteResult]


def insert(
    connection: Database, routed: Routed, parameter_sets: Sequence[Parameters], send: Send
) -> tuple[int, list[pa.Table]]:
    """Run an INSERT once per parameter set as one batch: the count, and the rows for its RETURNING."""
    write, info = routed.write, routed.info
    listed = write.columns()
    api_set = maybe_null(write, listed) if listed is not None else ()
    if listed is not None:
        check_required(routed, written_columns(routed, listed, api_set=api_set))
    check_insert(write)
    if not parameter_sets:
        return 0, []
    pieces = evaluate(connection, routed, listed, parameter_sets)
    raw = pa.concat_tables(
        [p.drop_columns([ORDINAL]) if ORDINAL in p.column_names else p for p in pieces],
        promote_options="permissive",
    )
    if listed is not None and raw.num_columns != len(listed):
        raise routed.fail(ProgrammingError, f"INSERT names {len(listed)} columns but its query gives {raw.num_columns}")
    names = raw.column_names if listed is None else listed
    columns = written_columns(routed, names, api_set=names)
    raw, columns = leave_to_api(routed, raw.rename_columns([c.name for c in columns]), columns)
    check_required(routed, columns)
    rows = cast_rows(connection.duckdb, raw, columns)
    check_values_present(routed, rows, columns)
    result = send(routed, len(rows), lambda: routed.table.insert(rows))
    key = info.primary_key
    written = rows.append_column(key.name, pa.array(result.keys, key.type)) if key is not None else rows
    return result.count, [returned(connection, routed, written)]


def leave_to_api(routed: Routed, raw: pa.Table, columns: list[Column]) -> tuple[pa.Table, list[Column]]:
    """The rows without the columns the API sets, which an INSERT may give only as NULL ("not given": what an
    ORM sends for a key the API has not assigned yet)."""
    kept = [c for c in columns if c.insertable]
    for column in columns:
        if not column.insertable and raw.column(column.name).null_count != raw.num_rows:
            table = routed.info.name
            if column.primary_key:
                message = f"column {column.name} of {table!r} is assigned by the API: leave it out, or NULL"
            else:
                message = f"column {column.name} of {table!r} can't be set on insert"
            raise routed.fail(ReadOnlyError, message)
    return raw.select([c.name for c in kept]), kept


def evaluate(
    connection: Database, routed: Routed, listed: Sequence[str] | None, parameter_sets: Sequence[Parameters]
) -> list[pa.Table]:
    """The rows of an INSERT, for each parameter set."""
    keys = bare_placeholders(routed.write, listed) if listed is not None else None
    if keys is not None and listed is not None:
        check_placeholders(routed.write, [routed.write.statement.expression])
        direct = parameter_rows(keys, listed, parameter_sets)
        if direct is not None:
            return [direct]
    query = rows_query(routed.write, listed)
    check_placeholders(routed.write, [query])
    sql = query.sql(DIALECT)
    return [select(connection, sql, parameters) for parameters in parameter_sets]


def check_required(routed: Routed, columns: Sequence[Column]) -> None:
    """The INSERT sets every column the API requires."""
    given = {c.name for c in columns}
    missing = [c.name for c in routed.info.columns if c.required and c.name not in given]
    if missing:
        raise routed.fail(IntegrityError, f"INSERT into {routed.info.name!r} must set {', '.join(missing)}")


def parameter_rows(
    keys: list[list[str]], names: Sequence[str], parameter_sets: Sequence[Parameters]
) -> pa.Table | None:
    """Rows whose every value is a placeholder (`VALUES ($1, $2), …`, what executemany and SQLAlchemy send),
    straight from the parameters as Arrow infers their types (DuckDB still casts them to the columns'). None when
    Arrow can't hold a column's values as one type: DuckDB then evaluates each parameter set instead."""
    if any(p is None for p in parameter_sets):
        return None
    cells: list[list[Any]] = [[] for _ in names]
    try:
        for parameters in parameter_sets:
            assert parameters is not None
            for row in keys:
                for column, key in zip(cells, row, strict=True):
                    column.append(parameters[key] if isinstance(parameters, Mapping) else parameters[int(key) - 1])
        return pa.table([pa.array(values) for values in cells], names=list(names))
    except (LookupError, pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        # A missing parameter or values of mixed types: DuckDB's own binding says what is wrong, or copes.
        return None

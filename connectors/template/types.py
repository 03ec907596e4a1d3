"""The template API's field types as Arrow columns with their pushdown, and record pages as Arrow batches.

The API's documented semantics (its README, mirrored by `emulator/where.py`): text compares by code point and
case-sensitively, decimals travel as strings and compare as decimals, a comparison with null is false and `in`
takes a list — all exactly DuckDB's semantics, so every operator a field lists in `filterable` is pushed as
exact, and `not in` is `not` around `in`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from federation.errors import DataError
from federation.json_pages import json_records
from federation.predicates import Operator
from federation.table import Column

_TYPES: dict[str, pa.DataType] = {
    "integer": pa.int64(),
    "text": pa.string(),
    "decimal": pa.decimal128(18, 2),
    "float": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us", tz="UTC"),
}
_OPERATORS = {
    "eq": (Operator.EQ,),
    "ne": (Operator.NE,),
    "lt": (Operator.LT,),
    "le": (Operator.LE,),
    "gt": (Operator.GT,),
    "ge": (Operator.GE,),
    "in": (Operator.IN, Operator.NOT_IN),
    "null": (Operator.IS_NULL,),
    "notnull": (Operator.IS_NOT_NULL,),
    "startswith": (Operator.LIKE,),
}


def column(field: Mapping[str, Any]) -> Column:
    """The column for one field of a table description."""
    kind = _TYPES.get(field["type"])
    if kind is None:
        raise DataError(f"field {field['name']!r} has a type duckfed does not know: {field['type']!r}")
    writable = not field.get("readonly", False)
    return Column(
        name=field["name"],
        type=kind,
        nullable=bool(field.get("nullable", True)),
        primary_key=bool(field.get("key", False)),
        native_type=field["type"],
        pushdown=frozenset(op for name in field.get("filterable", ()) for op in _OPERATORS.get(name, ())),
        exact=True,
        sortable=bool(field.get("sortable", False)),
        insertable=writable,
        updatable=writable,
        required=bool(field.get("required", False)),
    )


def batch(records: Sequence[Mapping[str, Any]], columns: Sequence[Column]) -> pa.RecordBatch:
    """One page of records as a batch of `columns`; strings become decimals, dates and times in Arrow's C++."""
    arrays = []
    for col in columns:
        values = [record.get(col.name) for record in records]
        if _text_on_the_wire(col.type):
            arrays.append(pc.cast(pa.array(values, pa.string()), col.type))
        else:
            arrays.append(pa.array(values, col.type))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema([pa.field(c.name, c.type, c.nullable) for c in columns]))


def decode_page(body: bytes, columns: Sequence[Column]) -> pa.RecordBatch | None:
    """A page `{"records": [...]}` as a batch of `columns`, parsed and typed in C++ without the GIL
    (`federation.json_pages`); None for a body that reader can't take as the columns' types, which `batch` over
    the parsed records reads (or names what is wrong with)."""
    found = json_records(body, ("records",), [pa.field(c.name, _wire_type(c.type)) for c in columns])
    if found is None:
        return None
    arrays = [
        values if values.type == c.type else pc.cast(values, c.type) for values, c in zip(found, columns, strict=True)
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema([pa.field(c.name, c.type, c.nullable) for c in columns]))


def _wire_type(kind: pa.DataType) -> pa.DataType:
    """How a value of `kind` travels: decimals, dates and times as text, the rest as JSON's own types."""
    return pa.string() if _text_on_the_wire(kind) else kind


def _text_on_the_wire(kind: pa.DataType) -> bool:
    return bool(pa.types.is_decimal(kind) or pa.types.is_date(kind) or pa.types.is_timestamp(kind))


def json_value(value: object) -> object:
    """A Python value (from an Arrow row) as the API's JSON takes it."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text.replace("+00:00", "Z")
    return str(value)  # decimals travel as strings

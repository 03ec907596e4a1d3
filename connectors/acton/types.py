"""Act-On's values as typed Arrow columns: numbers sent as strings, epoch-millisecond times, "true"/"false".

The API encodes the same field differently per endpoint (an image's `size` is a number in the folder list, its
`width` a string; a media item's `creation_time` a number and its `last_modified` a string), so every value goes
through one converter per Arrow type that accepts both forms. List records are all text; Act-On sends an empty
string for an empty field, which becomes NULL (and NULL is written back as an empty string).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from federation.predicates import Operator
from federation.table import Column

TEXT = pa.string()
WHOLE = pa.int64()
FLAG = pa.bool_()
BYTES = pa.binary()
#: Act-On's times are epoch milliseconds, UTC; held in microseconds, DuckDB's own unit, so a scan's schema is
#: the one DuckDB reports.
MILLIS = pa.timestamp("us", tz="UTC")
#: `=` and `IN` on a column whose values the API looks up (or groups by) exactly.
LOOKUP = frozenset({Operator.EQ, Operator.IN})
#: Tests on a column the API always fills: IS NULL holds for no record, IS NOT NULL for every one.
FILLED = frozenset({Operator.IS_NULL, Operator.IS_NOT_NULL})
#: What a time window (`modafter`/`modbefore`, …) narrows, on a column the API always fills.
WINDOW = frozenset({Operator.EQ, Operator.LT, Operator.LE, Operator.GT, Operator.GE, Operator.IN}) | FILLED


def column(name: str, kind: pa.DataType, native: str | None = None, **capabilities: Any) -> Column:
    return Column(name=name, type=kind, native_name=native, **capabilities)


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _whole(value: object) -> int | None:
    if value is None or value == "":
        return None
    return int(str(value))


def _micros(value: object) -> int | None:
    millis = _whole(value)
    return None if millis is None else millis * 1000


def _flag(value: object) -> bool | None:
    if value is None or value == "":
        return None
    return value is True or str(value).lower() == "true"


_CONVERT: dict[pa.DataType, Callable[[object], object]] = {
    TEXT: _text,
    WHOLE: _whole,
    MILLIS: _micros,
    FLAG: _flag,
    BYTES: lambda value: None,  # file bytes are sent, never read back
}


def batch(records: Sequence[dict[str, object]], columns: Sequence[Column]) -> pa.RecordBatch:
    """Records keyed by each column's API name as one batch of `columns`."""
    arrays = [_array(list(map(dict.get, records, itertools.repeat(col.api_name))), col.type) for col in columns]
    return _batch(arrays, columns)


def batch_of_values(
    rows: Sequence[Sequence[object]], fields: Sequence[str], columns: Sequence[Column]
) -> pa.RecordBatch:
    """Records sent as value lists in the order of `fields` (a short one lacks its last values) as one batch.

    A page of list records is all text: it converts to Arrow in one call and each column is sliced out of it by
    kernel, about a third of the time of converting column by column."""
    where = {name: i for i, name in enumerate(fields)}
    reach = max((where.get(col.api_name, -1) for col in columns), default=-1) + 1
    try:
        nested = pa.array(rows, pa.list_(TEXT))
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        nested = None  # a number or a flag among the values: the per-value converters take both forms
    if nested is not None and (not rows or pc.min(pc.list_value_length(nested)).as_py() >= reach):
        arrays = [
            _from_texts(pc.list_element(nested, where[col.api_name]), col.type)
            if col.api_name in where
            else pa.nulls(len(rows), col.type)
            for col in columns
        ]
        return _batch(arrays, columns)
    by_field = dict(zip(fields, itertools.zip_longest(*rows), strict=False))
    nothing = [None] * len(rows)
    return _batch([_array(list(by_field.get(col.api_name, nothing)), col.type) for col in columns], columns)


def _batch(arrays: list[pa.Array], columns: Sequence[Column]) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema([pa.field(c.name, c.type, c.nullable) for c in columns]))


def _array(values: list[Any], kind: pa.DataType) -> pa.Array:
    """One column's values as `kind`: by Arrow kernels when they are all text (or NULL), else value by value."""
    if kind in _VECTORIZED:
        try:
            texts = pa.array(values, TEXT)
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            pass  # not all text (numbers, booleans): the converter below takes both forms
        else:
            return _from_texts(texts, kind)
    return pa.array([_CONVERT[kind](v) for v in values], kind)


def _from_texts(texts: pa.Array, kind: pa.DataType) -> pa.Array:
    """A column sent as text as `kind`, with the per-value converter's results: an empty field is NULL."""
    if kind in _VECTORIZED:
        try:
            return _VECTORIZED[kind](pc.if_else(pc.equal(texts, ""), pa.scalar(None, TEXT), texts))
        except pa.ArrowInvalid:
            pass  # text Arrow doesn't parse (" 12", "1_000"): Python's int() is the rule, and names bad values
    return pa.array([_CONVERT[kind](v) for v in texts.to_pylist()], kind)


def _text_to_micros(texts: pa.Array) -> pa.Array:
    return pc.multiply_checked(texts.cast(WHOLE), 1000).cast(MILLIS)


def _text_to_flag(texts: pa.Array) -> pa.Array:
    return pc.equal(pc.utf8_lower(texts), "true")


#: Converters of a column sent as text (empty fields already NULL), matching `_CONVERT`'s results: an integer's
#: text parses as `int(str)` does (a malformed one raises either way), and a flag is true exactly when its text is
#: "true" in any case.
_VECTORIZED: dict[pa.DataType, Callable[[pa.Array], pa.Array]] = {
    TEXT: lambda texts: texts,
    WHOLE: lambda texts: texts.cast(WHOLE),
    MILLIS: _text_to_micros,
    FLAG: _text_to_flag,
}


def text_value(value: object) -> str:
    """A value to write into a list record: text, with NULL as Act-On's empty field."""
    return "" if value is None else str(value)

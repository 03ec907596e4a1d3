"""Act-On's values as typed Arrow columns: numbers sent as strings, epoch-millisecond times, "true"/"false".

The API encodes the same field differently per endpoint (an image's `size` is a number in the folder list, its
`width` a string; a media item's `creation_time` a number and its `last_modified` a string), so every value goes
through one converter per Arrow type that accepts both forms. List records are all text; Act-On sends an empty
string for an empty field, which becomes NULL (and NULL is written back as an empty string).
"""

from __future__ import annotations

import functools
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

    A page of list records is all text: it converts to Arrow in one call (`batch_of_lists` takes it from there),
    about a third of the time of converting column by column."""
    try:
        nested = pa.array(rows, pa.list_(TEXT))
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        nested = None  # a number or a flag among the values: the per-value converters take both forms
    found = None if nested is None else batch_of_lists(nested, fields, columns)
    if found is not None:
        return found
    by_field = dict(zip(fields, itertools.zip_longest(*rows), strict=False))
    nothing = [None] * len(rows)
    return _batch([_array(list(by_field.get(col.api_name, nothing)), col.type) for col in columns], columns)


def batch_of_lists(nested: pa.ListArray, fields: Sequence[str], columns: Sequence[Column]) -> pa.RecordBatch | None:
    """Records as a `list<string>` array of value lists in the order of `fields`, as one batch; None when a record is
    NULL, or the records differ in length or lack a value a column needs (the caller converts the page value by value
    then).

    A few kernels for the whole page, not several per column: one `take` puts the page's values in column order, so
    each column is a slice of it, and every empty field becomes NULL in one pass."""
    where = {name: i for i, name in enumerate(fields)}
    reach = max((where.get(col.api_name, -1) for col in columns), default=-1) + 1
    rows = len(nested)
    if nested.null_count:
        return None
    width = 0
    if rows:
        lengths = pc.min_max(pc.list_value_length(nested)).as_py()
        width = lengths["min"]
        if width != lengths["max"] or width < reach:
            return None
    values = nested.flatten()  # the records' values, in record order (without what a slice of `nested` leaves out)
    by_column = _emptied(values.take(_column_order(rows, width))) if rows else values
    arrays = [
        _typed(by_column.slice(where[col.api_name] * rows, rows), col.type)
        if col.api_name in where
        else pa.nulls(rows, col.type)
        for col in columns
    ]
    return _batch(arrays, columns)


@functools.lru_cache(maxsize=8)
def _column_order(rows: int, width: int) -> pa.Array:
    """Where each value of a `rows` x `width` page read record by record sits when read column by column (a page of
    a list has one shape, page after page)."""
    return pa.array([row * width + column for column in range(width) for row in range(rows)], pa.int32())


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
    return _typed(_emptied(texts), kind)


def _emptied(texts: pa.Array) -> pa.Array:
    """Text with every empty string NULL: the same buffers under a validity bitmap that leaves them out (no copy of
    the text)."""
    filled = pc.not_equal(texts, "")
    if filled.null_count:
        filled = filled.fill_null(False)
    if texts.offset or filled.offset or texts.type != TEXT:
        return pc.if_else(filled, texts, pa.scalar(None, texts.type))
    return pa.Array.from_buffers(TEXT, len(texts), [filled.buffers()[1], *texts.buffers()[1:]])


def _typed(texts: pa.Array, kind: pa.DataType) -> pa.Array:
    """A column of text (empty fields already NULL) as `kind`, with the per-value converter's results."""
    if kind in _VECTORIZED:
        try:
            return _VECTORIZED[kind](texts)
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

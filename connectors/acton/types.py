"""Act-On's values as typed Arrow columns: numbers sent as strings, epoch-millisecond times, "true"/"false".

The API encodes the same field differently per endpoint (an image's `size` is a number in the folder list, its
`width` a string; a media item's `creation_time` a number and its `last_modified` a string), so every value goes
through one converter per Arrow type that accepts both forms. List records are all text; Act-On sends an empty
string for an empty field, which becomes NULL (and NULL is written back as an empty string).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pyarrow as pa

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


def batch(records: Sequence[Mapping[str, object]], columns: Sequence[Column]) -> pa.RecordBatch:
    """Records keyed by each column's API name as one batch of `columns`."""
    arrays = []
    for col in columns:
        convert = _CONVERT[col.type]
        arrays.append(pa.array([convert(r.get(col.api_name)) for r in records], col.type))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema([pa.field(c.name, c.type, c.nullable) for c in columns]))


def text_value(value: object) -> str:
    """A value to write into a list record: text, with NULL as Act-On's empty field."""
    return "" if value is None else str(value)

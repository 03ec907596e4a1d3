"""Exact Online's Edm types as Arrow columns with their pushdown, and JSON pages as Arrow batches.

Types follow the commercial connectors: Edm.Guid is VARCHAR, `/Date(ms)/` a TIMESTAMP, Edm.Boolean BOOLEAN,
Edm.Double and Edm.Decimal DOUBLE, Edm.Int64 BIGINT and the smaller integers INTEGER.

Pushdown per type, each a superset of DuckDB's result under the API's rules. Sources: the operators and literal
forms (`eq ne gt ge lt le`, `guid'…'`, `datetime'…'`, `''` escapes) are Exact's "REST API - query string
options" page (start.exactonline.nl/docs/HlpRestAPIResources.aspx, via api-protocols.md §2.4) and what its
widely used clients send (picqer/exact-php-client, ossobv/exactonline); the comparison rules are UNCONFIRMED in
Exact's documents, so the connector assumes the widest plausible ones and pushes only what is a superset under
them (the emulator, `emulator/odata.py`, implements the same assumption, and the engine re-checks every
row). Exact compares text under SQL Server's case-insensitive collation that ignores trailing spaces,
so only `=` (and `IN`) narrow text safely — `!=` and ordering would drop rows DuckDB keeps. Guids compare
case-insensitively: `=` is safe for any spelling, `!=` only for the canonical lower-case one (the compiler checks);
guid order isn't text order, so no ordering. `ne` lets nulls through (C# null semantics), which only widens.
Numbers, booleans and dates compare exactly. A property the docs mark as not filterable pushes nothing.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from connectors.exactonline.entities import Entity, Property
from federation.json_pages import json_records
from federation.predicates import ALL_OPERATORS, Operator
from federation.table import Column

_ARROW: dict[str, pa.DataType] = {
    "Edm.Guid": pa.string(),
    "Edm.String": pa.string(),
    "Edm.Boolean": pa.bool_(),
    "Edm.Double": pa.float64(),
    "Edm.Decimal": pa.float64(),
    "Edm.Int64": pa.int64(),
    "Edm.Int32": pa.int32(),
    "Edm.Int16": pa.int32(),
    "Edm.Byte": pa.int32(),
    "Edm.DateTime": pa.timestamp("us"),
}
_NULLS = frozenset({Operator.IS_NULL, Operator.IS_NOT_NULL})
_EQUALITY = frozenset({Operator.EQ, Operator.NE, Operator.IN, Operator.NOT_IN}) | _NULLS
_PUSHDOWN: dict[str, frozenset[Operator]] = {
    "Edm.String": frozenset({Operator.EQ, Operator.IN, Operator.LIKE}) | _NULLS,
    "Edm.Guid": _EQUALITY,
    "Edm.Boolean": _EQUALITY,
}
_DOTNET_DATE = re.compile(r"/Date\((?P<ms>-?\d+)(?:[+-]\d{4})?\)/")


def column(prop: Property, entity: Entity) -> Column:
    """The column for one documented property of `entity`."""
    writable = entity.writable and not prop.read_only
    return Column(
        name=prop.name,
        type=_ARROW.get(prop.edm, pa.string()),
        nullable=prop.name != entity.key,
        primary_key=prop.name == entity.key,
        native_type=prop.edm,
        pushdown=_PUSHDOWN.get(prop.edm, ALL_OPERATORS) if prop.filterable else frozenset(),
        exact=prop.edm not in ("Edm.String", "Edm.Guid"),
        sortable=False,
        required_filter=prop.required_filter,
        insertable=writable,
        updatable=writable,
        required=writable and prop.mandatory,
    )


def _epoch_us(value: object) -> int | None:
    if value is None:
        return None
    found = _DOTNET_DATE.fullmatch(str(value))
    if found is None:
        raise ValueError(f"not an Exact date: {value!r}")
    return int(found.group(1)) * 1000


def batch(records: Sequence[Mapping[str, Any]], columns: Sequence[Column]) -> pa.RecordBatch:
    """One page of JSON records as a batch of `columns`."""
    arrays = []
    for col in columns:
        values = [record.get(col.api_name) for record in records]
        if pa.types.is_timestamp(col.type):
            arrays.append(pa.array([_epoch_us(v) for v in values], pa.int64()).cast(col.type))
        else:
            arrays.append(pa.array(values, col.type))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema([pa.field(c.name, c.type, c.nullable) for c in columns]))


def decode_page(body: bytes, columns: Sequence[Column]) -> pa.RecordBatch | None:
    """A page `{"d": {"results": [...]}}` as a batch of `columns`, parsed and typed in C++ without the GIL
    (`federation.json_pages`), or None for a body that reader can't take as the columns' types (a number sent as
    text, `{"d": [...]}`, a time outside its pattern): `batch` over the parsed records gives the same values then,
    or names the bad one."""
    found = json_records(body, ("d", "results"), [pa.field(c.api_name, _wire_type(c.type)) for c in columns])
    if found is None:
        return None
    try:
        arrays = [_finish(values, c.type) for values, c in zip(found, columns, strict=True)]
    except ValueError:
        return None
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema([pa.field(c.name, c.type, c.nullable) for c in columns]))


def _wire_type(kind: pa.DataType) -> pa.DataType:
    """What the JSON reader parses a column as: its own type, or text for a `/Date(ms)/` time."""
    return pa.string() if pa.types.is_timestamp(kind) else kind


def _finish(array: pa.Array, kind: pa.DataType) -> pa.Array:
    if not pa.types.is_timestamp(kind):
        return array
    millis = pc.extract_regex(array, f"^{_DOTNET_DATE.pattern}$").flatten()[0]  # the parent's nulls kept
    unread = pc.and_(array.is_valid(), millis.is_null())
    if pc.any(unread).as_py():
        raise ValueError(f"not an Exact date: {array.filter(unread)[0].as_py()!r}")
    return pc.multiply_checked(millis.cast(pa.int64()), 1000).cast(kind)


def json_value(value: object) -> object:
    """A Python value (from an Arrow row) as a POST or PUT body carries it."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value

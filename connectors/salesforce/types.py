"""Salesforce field types as Arrow types and pushdown capabilities, and query pages as Arrow record batches.

Pages are converted by Arrow's own JSON reader against an explicit schema: numbers become decimals from their
text (so currency stays exact), and the whole conversion runs in C++ rather than per value in Python. Dates,
datetimes and times arrive as strings and are cast afterwards, since the JSON reader only parses timestamps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from federation.errors import DataError
from federation.json_pages import json_document
from federation.predicates import ALL_OPERATORS, Operator
from federation.table import Column

_TEXT = frozenset({"string", "picklist", "textarea", "email", "url", "phone", "combobox", "encryptedstring", "anyType"})
IDS = frozenset({"id", "reference"})
#: Compound and binary fields the query API does not return as scalars.
UNSUPPORTED = frozenset({"address", "location", "base64", "complexvalue"})

# SOQL compares text case-insensitively, so `=` and IN return a superset of DuckDB's exact matches, while != and
# ranges would drop rows DuckDB keeps ('a' != 'A' in DuckDB, not in SOQL).
_TEXT_OPS = frozenset({Operator.EQ, Operator.IN, Operator.IS_NULL, Operator.IS_NOT_NULL})
# A 15-character Id literal matches its 18-character record Id in SOQL but not in DuckDB: only positive tests.
_ID_OPS = _TEXT_OPS
# LIKE (case-insensitive, so a superset too) takes text fields only: "invalid operator on id field" otherwise.
_PATTERN_OPS = _TEXT_OPS | {Operator.LIKE}


def arrow_type(field: Mapping[str, Any]) -> pa.DataType | None:
    """The Arrow type of a describe field, or None for compound fields the query API can't return flat."""
    kind = field["type"]
    if kind in _TEXT or kind in IDS or kind == "multipicklist":
        return pa.string()
    if kind == "boolean":
        return pa.bool_()
    if kind in ("int", "long"):
        return pa.int64()
    if kind in ("double", "percent"):
        return pa.float64()
    if kind == "currency":
        precision = int(field.get("precision") or 18)
        return pa.decimal128(min(max(precision, 1), 38), int(field.get("scale") or 0))
    if kind == "date":
        return pa.date32()
    if kind == "datetime":
        return pa.timestamp("us", tz="UTC")
    if kind == "time":
        return pa.time64("us")
    return None


def pushdown_operators(field: Mapping[str, Any]) -> frozenset[Operator]:
    """The operators SOQL evaluates as a superset of DuckDB's semantics for this field."""
    if not field.get("filterable", True):
        return frozenset()
    kind = field["type"]
    if kind in IDS:
        return _ID_OPS
    if kind in _TEXT:
        return _PATTERN_OPS
    if kind == "boolean":
        # SOQL takes only = and != on a boolean field ("invalid operator on boolean field" otherwise), and reads
        # `= null` as `= false`: a superset of IS NULL (a boolean is never null), but `!= null` drops false rows.
        return frozenset({Operator.EQ, Operator.NE, Operator.IS_NULL})
    if kind in ("int", "long", "double", "percent", "currency", "date", "datetime"):
        return ALL_OPERATORS
    # multipicklist `=` matches sets, time literals have their own format: both stay local.
    return frozenset({Operator.IS_NULL, Operator.IS_NOT_NULL})


def column(field: Mapping[str, Any]) -> Column | None:
    """The column for a describe field, or None when it is not returned as a scalar."""
    kind = arrow_type(field)
    if kind is None:
        return None
    ops = pushdown_operators(field)
    return Column(
        name=field["name"],
        type=kind,
        nullable=field["type"] != "id",
        primary_key=field["type"] == "id",
        native_type=field["type"],
        pushdown=ops,
        exact=field["type"] not in _TEXT and field["type"] not in IDS,
        sortable=bool(field.get("sortable", False)),
        insertable=bool(field.get("createable", False)),
        updatable=bool(field.get("updateable", False)),
        required=bool(
            field.get("createable")
            and not field.get("nillable", True)
            and not field.get("defaultedOnCreate", False)
            and field["type"] != "boolean"
        ),
        description=str(field.get("label", "")),
    )


@dataclass(frozen=True)
class Page:
    """One query response: its records as a batch, and where the next page is."""

    batch: pa.RecordBatch
    next_url: str | None
    total_size: int


class PageDecoder:
    """Decodes query responses for one column list into record batches of the columns' Arrow types."""

    def __init__(self, columns: Sequence[Column]) -> None:
        self.columns = tuple(columns)
        self.schema = pa.schema([pa.field(c.name, c.type) for c in self.columns])
        wire = [pa.field(c.name, _wire_type(c.type)) for c in self.columns]
        self._wire = pa.schema(
            [
                pa.field("totalSize", pa.int64()),
                pa.field("done", pa.bool_()),
                pa.field("nextRecordsUrl", pa.string()),
                pa.field("records", pa.list_(pa.struct(wire))),
            ]
        )

    def decode(self, body: bytes) -> Page:
        try:
            table = json_document(body, self._wire)
        except pa.ArrowInvalid as error:
            raise DataError(f"a query page did not match the described field types: {error}") from None
        records = table.column("records").combine_chunks().flatten()
        arrays = [_finish(records.field(i), c.type) for i, c in enumerate(self.columns)]
        batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        next_url = table.column("nextRecordsUrl")[0].as_py()
        done = table.column("done")[0].as_py()
        return Page(batch, None if done else next_url, int(table.column("totalSize")[0].as_py() or 0))


def _wire_type(kind: pa.DataType) -> pa.DataType:
    """What the JSON reader parses a column as: the final type, or a string for what it can't parse."""
    if pa.types.is_date32(kind) or pa.types.is_time64(kind):
        return pa.string()
    return kind


def _finish(array: pa.Array, kind: pa.DataType) -> pa.Array:
    if pa.types.is_date32(kind):
        return array.cast(kind)
    if pa.types.is_time64(kind):
        # Times are "hh:mm:ss.sssZ"; Arrow casts strings to timestamps, not times, so go through one.
        stamps = pc.binary_join_element_wise("1970-01-01T", pc.utf8_rtrim(array, characters="Z"), "")
        return stamps.cast(pa.timestamp("us")).cast(kind)
    return array

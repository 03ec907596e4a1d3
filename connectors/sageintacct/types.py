"""Intacct's fields as Arrow columns with their pushdown, names as the vendor's SQL connectors show them, and
`query` pages as Arrow batches.

Names (sql-models.md §1.4): an object is a table named as the vendor's SQL connectors name it (`GLAccount`,
`ARInvoice`, else the object name capitalized), a field a column with its first letter upper and the rest lower,
nested fields joined by `_` (`DISPLAYCONTACT.EMAIL1` → `Displaycontact_email1`). Types: the API sends strings;
INTEGER is BIGINT, CURRENCY/DECIMAL are decimals, DATE is `MM/DD/YYYY`, TIMESTAMP is `MM/DD/YYYY HH:MM:SS` in
the company's time zone (no zone is sent: `TimeZone` says which), BOOLEAN is `true`/`false` (or `T`/`F`).

Pushdown (developer.intacct.com/web-services/queries, "Filter" — api-protocols.md §1.6): `equalto`,
`notequalto`, `in`, `notin`, `isnull` and `isnotnull` on every type; the ordering operators (`lessthan` …
`greaterthanorequalto`) on numbers, dates and timestamps, which compare by value. Text is compared
case-sensitively (the same page: "queries are case-sensitive" unless `caseinsensitive` is set), so `=` is pushed
exactly; text ordering is not pushed because the gateway's collation is not documented.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from federation.errors import DataError
from federation.predicates import Operator
from federation.table import Column

#: Objects whose SQL name is not the object name capitalized (sql-models.md §1.2).
TABLE_NAMES = {
    "GLACCOUNT": "GLAccount",
    "GLBATCH": "GLBatch",
    "GLENTRY": "GLEntry",
    "ARINVOICE": "ARInvoice",
    "ARINVOICEITEM": "ARInvoiceItem",
    "APBILL": "APBill",
    "APBILLITEM": "APBillItem",
    "APPYMT": "APPymt",
    "ARPAYMENTBATCH": "ARPaymentBatch",
    "CUSTTYPE": "CustType",
    "INVDOCUMENT": "InvDocument",
    "UOM": "UoM",
}
CURRENCY = pa.decimal128(18, 2)
DECIMAL = pa.decimal128(28, 8)
TIMESTAMP = pa.timestamp("us", tz="UTC")
_TYPES: dict[str, pa.DataType] = {
    "INTEGER": pa.int64(),
    "DECIMAL": DECIMAL,
    "PERCENT": DECIMAL,
    "CURRENCY": CURRENCY,
    "DATE": pa.date32(),
    "TIMESTAMP": TIMESTAMP,
    "BOOLEAN": pa.bool_(),
}
_EQUALITY = frozenset({Operator.EQ, Operator.NE, Operator.IN, Operator.NOT_IN, Operator.IS_NULL, Operator.IS_NOT_NULL})
_ORDERED = _EQUALITY | {Operator.LT, Operator.LE, Operator.GT, Operator.GE}
#: Text also takes `like` (developer.intacct.com/web-services/queries: "like … % and _ wildcards").
_TEXT = _EQUALITY | {Operator.LIKE}
#: A boolean's spellings, trimmed and lowered: the first `_TRUTHS` are true.
_BOOLEANS = pa.array(["true", "t", "false", "f"])
_TRUTHS = 2


def table_name(obj: str) -> str:
    return TABLE_NAMES.get(obj.upper(), obj.capitalize())


def column_name(field: str) -> str:
    """`DISPLAYCONTACT.EMAIL1` → `Displaycontact_email1`."""
    return field.replace(".", "_").capitalize()


def column(field: Mapping[str, Any], *, filled: frozenset[str] = frozenset()) -> Column:
    """The column for one field of a `lookup` answer; `filled` names required fields duckfed fills itself."""
    name, kind = str(field["ID"]), str(field.get("DATATYPE") or "TEXT").upper()
    readonly = str(field.get("READONLY", "")).lower() == "true" or name == "RECORDNO"
    arrow = _TYPES.get(kind, pa.string())
    return Column(
        name=column_name(name),
        type=arrow,
        nullable=name != "RECORDNO",
        primary_key=name == "RECORDNO",
        native_name=name,
        native_type=kind,
        pushdown=_TEXT if arrow == pa.string() else _EQUALITY if arrow == pa.bool_() else _ORDERED,
        exact=True,
        sortable=name == "RECORDNO",
        insertable=not readonly,
        updatable=not readonly,
        required=str(field.get("REQUIRED", "")).lower() == "true" and name not in filled,
        description=str(field.get("LABEL") or ""),
    )


def batch(
    rows: Sequence[Mapping[str, str | None]], columns: Sequence[Column], zone: zoneinfo.ZoneInfo
) -> pa.RecordBatch:
    """Rows (field → text, None or "" for an empty field) as a batch of `columns`."""
    texts = {c.api_name: pa.array([row.get(c.api_name) or None for row in rows], pa.string()) for c in columns}
    return from_texts(texts, columns, zone)


def from_texts(texts: Mapping[str, pa.Array], columns: Sequence[Column], zone: zoneinfo.ZoneInfo) -> pa.RecordBatch:
    """A page's texts (a string array by API field name, null for an empty field) as a batch of `columns`."""
    arrays = [_array(texts[col.api_name], col, zone) for col in columns]
    schema = pa.schema([pa.field(c.name, c.type, c.nullable) for c in columns])
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _array(strings: pa.Array, col: Column, zone: zoneinfo.ZoneInfo) -> pa.Array:
    kind = col.type
    if kind == pa.bool_():
        # Arrow trims and lowers exactly the characters `str.strip` and `str.lower` did here (checked for every
        # code point), so the same texts are booleans.
        found = pc.index_in(pc.utf8_lower(pc.utf8_trim_whitespace(strings)), value_set=_BOOLEANS)
        wrong = pc.and_(pc.is_valid(strings), pc.is_null(found))
        if pc.any(wrong).as_py():
            value = strings.filter(wrong)[0].as_py()
            raise DataError(f"column {col.name!r}: {value!r} is not a boolean (true, t, false or f)")
        return pc.less(found, _TRUTHS)
    if kind == pa.string():
        return strings
    if kind == pa.date32():
        return pc.cast(pc.strptime(strings, format="%m/%d/%Y", unit="s"), pa.date32())
    if kind == TIMESTAMP:
        local = pc.strptime(strings, format="%m/%d/%Y %H:%M:%S", unit="s")
        # The gateway's wall-clock times are the company's; a time that a DST change repeats or skips is taken
        # at its earlier reading.
        placed = pc.assume_timezone(local, timezone=zone.key, ambiguous="earliest", nonexistent="earliest")
        return pc.cast(placed, TIMESTAMP)
    return pc.cast(pc.utf8_trim_whitespace(strings), kind)

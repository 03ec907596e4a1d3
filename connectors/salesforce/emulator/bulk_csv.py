"""Bulk API 2.0 CSV as the emulator writes and reads it ("Prepare CSV Files", "Valid CSV Record Rows" in the
"Bulk API 2.0 and Bulk API Developer Guide"): a header row; fields holding the delimiter, a quote or a line break
quoted with ", a quote doubled. Query results quote every value and leave nulls empty (UNCONFIRMED: the platform
may quote nulls too; both read as null); booleans are true/false, datetimes ISO 8601 in UTC with Z.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from .errors import ApiError


def render_csv(header: Sequence[str], rows: Sequence[Sequence[str | None]], delimiter: str, line_ending: str) -> bytes:
    """CSV as the platform writes results: every field quoted, quotes doubled, null as an empty field."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=line_ending, quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    writer.writerows([["" if value is None else value for value in row] for row in rows])
    return out.getvalue().encode()


def parse_csv(body: bytes, delimiter: str) -> tuple[list[str], list[list[str]]]:
    """The header and rows of an uploaded CSV (quoted fields may hold delimiters, quotes and line breaks)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "INVALIDJOB", "InvalidBatch : The file is not in UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        rows = [row for row in reader if row]
    except csv.Error as error:
        raise ApiError(400, "INVALIDJOB", f"InvalidBatch : Failed to parse CSV: {error}") from None
    if not rows:
        raise ApiError(400, "INVALIDJOB", "InvalidBatch : The file has no header row")
    return rows[0], rows[1:]


def _wire_text(value: Any) -> str | None:
    """A JSON record value as a CSV field: booleans true/false, datetimes in UTC with Z."""
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        text = str(value)
        return text[:-5] + "Z" if text[-5:] == "+0000" and text[10:11] == "T" else text
    if kind is bool:
        return "true" if value else "false"
    return orjson.dumps(value).decode()  # a number as the query API's JSON writes it


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A query record with parent relationships flattened to dotted columns (``Owner.Name``)."""
    flat: dict[str, Any] = {}
    for name, value in record.items():
        if name == "attributes":
            continue
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def render_records(
    header: Sequence[str], records: Sequence[Mapping[str, Any]], delimiter: str, line_ending: str
) -> bytes:
    """Query records as a CSV chunk, column by column in Arrow (parents flattened only when the query has any):
    every value quoted, nulls empty, booleans true/false, datetimes in UTC with Z, numbers in their shortest form."""
    rows = [flatten(r) for r in records] if any("." in name for name in header) else records
    columns = [_text_column([row.get(name) for row in rows]) for name in header]
    out = io.BytesIO()
    options = pa_csv.WriteOptions(delimiter=delimiter, eol=line_ending, quoting_style="all_valid")
    pa_csv.write_csv(pa.table(columns, names=list(header)) if header else pa.table({}), out, options)
    return out.getvalue()


def _text_column(values: list[Any]) -> pa.Array:
    try:
        column = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed kinds: render each value on its own
        return pa.array([_wire_text(v) for v in values], pa.string())
    if pa.types.is_boolean(column.type):
        return pc.if_else(column, "true", "false")
    if pa.types.is_string(column.type):
        return pc.replace_substring_regex(column, r"^(\d{4}-\d\d-\d\dT[\d:.]+)\+0000$", r"\1Z")
    if pa.types.is_null(column.type):
        return column.cast(pa.string())
    return column.cast(pa.string())


def locator_of(offset: int) -> str:
    """An opaque-looking locator for the rows from `offset` on."""
    return orjson.dumps(offset).decode().encode().hex().upper()


def offset_of(locator: str) -> int | None:
    try:
        return int(bytes.fromhex(locator).decode())
    except ValueError:
        return None

"""Bulk API 2.0 CSV: query results decoded into the Arrow types of the REST path, and write rows encoded as CSV.

The format is the "Bulk API 2.0 and Bulk API Developer Guide"'s ("Prepare CSV Files", "Valid CSV Record Rows"):
a header row of field names; fields holding the delimiter, a quote or a line break are quoted with ", a quote
doubled; an empty field is null in results and "not given" in an upload (an update leaves such a field alone,
so null is written `#N/A`); booleans true/false; dates YYYY-MM-DD; datetimes ISO 8601 in UTC.

Results are parsed by Arrow's CSV reader with every column as text, then cast to the column's type by the same
rules as the REST decoder (`types.PageDecoder`), so a Bulk scan returns exactly what a REST scan does. A chunk is
parsed in blocks, each becoming a record batch as it is read, so a scan never holds a whole chunk decoded.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from federation.errors import DataError
from federation.table import Column

#: What a Bulk upload writes to set a field to null ("Valid CSV Record Rows").
NULL = "#N/A"
#: CSV decoded at a time: a record batch of about 2,000 wide records, however large the chunk.
BLOCK_BYTES = 1 << 20


class CsvDecoder:
    """Decodes result chunks for one column list (the job's SELECT list, in order) into record batches.

    Every chunk opens with its header row (as the guide's examples and the platform's clients read them); it is
    checked against the fields asked for, so a chunk without one fails loudly instead of losing its first record."""

    def __init__(self, columns: Sequence[Column]) -> None:
        self.columns = tuple(columns)
        self.schema = pa.schema([pa.field(c.name, c.type) for c in self.columns])
        self._names = [f"f{i}" for i in range(len(self.columns))]
        self._header = [c.api_name.lower() for c in self.columns]

    def batches(self, body: bytes) -> Iterator[pa.RecordBatch]:
        """The chunk's records, a block of `BLOCK_BYTES` of its CSV at a time (no decoded copy of the whole chunk)."""
        if not body or body.isspace():  # `strip` would copy the whole chunk
            return
        try:
            reader = pa_csv.open_csv(
                pa.BufferReader(body),  # reads the body in place
                read_options=pa_csv.ReadOptions(column_names=self._names, use_threads=False, block_size=BLOCK_BYTES),
                parse_options=pa_csv.ParseOptions(newlines_in_values=True, double_quote=True),
                convert_options=pa_csv.ConvertOptions(
                    column_types=dict.fromkeys(self._names, pa.string()),
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                    null_values=[""],
                ),
            )
            first = True
            for text in reader:
                if first:
                    self._check_header(text)
                    text, first = text.slice(1), False
                arrays = [_typed(text.column(i), c) for i, c in enumerate(self.columns)]
                yield pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        except pa.ArrowInvalid as error:
            raise DataError(f"a Bulk API result chunk is not the CSV the job's query describes: {error}") from None

    def _check_header(self, text: pa.RecordBatch) -> None:
        header = [str(v).lower() for v in text.slice(0, 1).to_pylist()[0].values()] if text.num_rows else []
        if header != self._header:
            raise DataError(f"a Bulk API result chunk opens with {header}, not the header row {self._header}")


def _typed(text: pa.Array, column: Column) -> pa.Array:
    kind = column.type
    try:
        if pa.types.is_string(kind):
            return text
        if pa.types.is_boolean(kind):
            return pc.equal(text, "true")
        if pa.types.is_time64(kind):
            # Times are "hh:mm:ss.sssZ"; Arrow casts strings to timestamps, not times, so go through one.
            stamps = pc.binary_join_element_wise("1970-01-01T", pc.utf8_rtrim(text, characters="Z"), "")
            return stamps.cast(pa.timestamp("us")).cast(kind)
        return text.cast(kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise DataError(f"column {column.name!r}: a Bulk API value is not a {column.native_type}: {error}") from None


def encode_rows(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """An upload: the header and rows, quoted where the format needs it, LF line endings."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def encoder(column: Column, *, null: str) -> Callable[[Any], str]:
    """How a column's Python values are written in an upload: `null` for None ("" on insert, `#N/A` on update),
    numbers exact, dates ISO, datetimes in UTC to the millisecond. Raises `Unencodable` for a value the format
    can't carry (an empty or `#N/A` string, which would read as "not given" or null)."""
    kind = column.type

    def encode(value: Any) -> str:
        if value is None:
            return null
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, Decimal):
            return format(value, "f")
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise DataError(f"{value} can't be stored in {column.name!r}: the API takes only finite numbers")
            return repr(value)
        if isinstance(value, datetime.datetime):
            moment = value.astimezone(datetime.UTC) if value.tzinfo else value
            return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"
        if isinstance(value, datetime.time):
            return f"{value:%H:%M:%S}.{value.microsecond // 1000:03d}Z"
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, str) and (value == NULL or (value == "" and not pa.types.is_string(kind))):
            raise Unencodable(column.name)
        if isinstance(value, str) and value == "":
            return null  # the platform stores an empty string as null
        return str(value)

    return encode


class Unencodable(Exception):
    """A value a Bulk upload can't carry: the write goes through sObject Collections instead."""

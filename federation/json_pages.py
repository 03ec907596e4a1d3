"""A JSON page read by Arrow's JSON reader: in C++, without the GIL, so the next page downloads (and DuckDB consumes
the last) meanwhile, where `orjson` plus a Python list per column holds the GIL for the whole page. `json_records`
gives a page's records as typed columns; `json_document` the whole body, for a connector that reads more of it."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.json as pa_json


def json_document(body: bytes, schema: pa.Schema) -> pa.Table:
    """`body`, one JSON object, as a one-row table of `schema`'s fields (any other field ignored, a missing one
    NULL), read by Arrow's JSON reader from the bytes themselves (no copy, no Python call back for input); raises
    `pa.ArrowInvalid` when the body doesn't fit `schema`."""
    return pa_json.read_json(
        pa.BufferReader(body),
        read_options=pa_json.ReadOptions(block_size=len(body) + 1, use_threads=False),
        parse_options=pa_json.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="ignore", newlines_in_values=True
        ),
    )


def json_records(body: bytes, path: Sequence[str], fields: Sequence[pa.Field]) -> list[pa.Array] | None:
    """The values of `fields` in each record of the list at `path` in the JSON object `body` (`("d", "results")`
    for `{"d": {"results": [...]}}`), one array per field; or None when the reader can't take the body as those
    types (a number sent as text, no list at `path`, a repeated field): the caller parses it the slow way then,
    which gives the same values or names what is wrong. Other fields of a record are ignored; a missing one is
    NULL."""
    if not fields or len({f.name for f in fields}) != len(fields):
        return None
    kind: pa.DataType = pa.list_(pa.struct(list(fields)))
    for name in reversed(path[1:]):
        kind = pa.struct([pa.field(name, kind)])
    try:
        table = json_document(body, pa.schema([pa.field(path[0], kind)]))
    except pa.ArrowInvalid:
        return None
    if table.num_rows != 1:
        return None
    found: pa.Array = table.column(path[0]).combine_chunks()
    for _ in path[1:]:
        found = found.flatten()[0]  # flatten keeps a parent's nulls in its child
    if found.null_count:
        return None  # no list at `path`
    records = found.flatten()
    if records.null_count:
        return None  # a record that is not an object
    return list(records.flatten())

"""A JSON page read by Arrow's JSON reader: in C++, without the GIL, so the next page downloads (and DuckDB consumes
the last) meanwhile, where `orjson` plus a Python list per column holds the GIL for the whole page. `json_records`
gives a page's records as typed columns; `json_document` the whole body, for a connector that reads more of it.
`key_values` reads one key's last value straight from the bytes, for a next request that needs only that."""

from __future__ import annotations

import re
from collections.abc import Sequence

import orjson
import pyarrow as pa
import pyarrow.json as pa_json

#: A JSON value `key_values` reads: an integer (not a float's digits) or a string.
_SCALAR = re.compile(rb'\s*(?:(-?(?:0|[1-9][0-9]*))(?![.eE0-9])|("(?:[^"\\]|\\.)*"))')


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


def key_values(body: bytes, name: str) -> tuple[int, object] | None:
    """How many times `name` is a key of an object in the JSON `body`, and its value the last time; None when it
    never is, or that value is neither an integer nor a string. Read by byte search (a tenth of a
    millisecond for a 100 KB page that takes milliseconds to parse), so a next request that needs only the last
    record's key goes out before the page is decoded.

    Exact for valid JSON whose keys are written compactly as themselves (`"id":`, as compact JSON writers send them,
    not `"id" :` or `\\u` escapes: those find nothing or too little): every `"` inside a string is escaped, so
    `"name":` not after a backslash is always that key. The caller vouches that each record holds the key once and
    nothing else does, and checks the count and value against the decoded page (which also finds a body that is no
    valid JSON)."""
    key = orjson.dumps(name) + b":"
    count = body.count(key)
    if b"\\" in body:  # one memchr; most pages escape nothing, and only an escape can hide the key in a string
        count -= body.count(b"\\" + key)
    end = len(body)
    while count:
        at = body.rfind(key, 0, end)
        if body[at - 1 : at] != b"\\":
            value = _SCALAR.match(body, at + len(key))
            if value is None:
                return None
            if value.group(1) is not None:
                return count, int(value.group(1))  # exact at any size (orjson reads past 64 bits as a float)
            try:
                return count, orjson.loads(value.group(2))
            except orjson.JSONDecodeError:
                return None  # a control character in the text: the decoder says what is wrong
        end = at
    return None

"""Template pages read by Arrow's JSON reader (`types.decode_page`) against the parsed-records path (`types.batch`):
the same batch for every page the reader takes, and None (so `batch` reads it) for a value of another JSON type."""

from __future__ import annotations

import datetime

import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.template import types

COLUMNS = [
    types.column({"name": "id", "type": "integer", "key": True, "nullable": False}),
    types.column({"name": "name", "type": "text"}),
    types.column({"name": "balance", "type": "decimal"}),
    types.column({"name": "score", "type": "float"}),
    types.column({"name": "active", "type": "boolean"}),
    types.column({"name": "born", "type": "date"}),
    types.column({"name": "seen", "type": "datetime"}),
]


def reference(body: bytes) -> pa.RecordBatch:
    return types.batch(orjson.loads(body)["records"], COLUMNS)


values = {
    "name": st.none() | st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
    "balance": st.none() | st.decimals(min_value=-(10**15), max_value=10**15, places=2).map(str),
    "score": st.none() | st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53), 2**53),
    "active": st.none() | st.booleans(),
    "born": st.none() | st.dates().map(datetime.date.isoformat),
    "seen": st.none()
    | st.datetimes(timezones=st.just(datetime.UTC)).map(lambda t: t.isoformat().replace("+00:00", "Z")),
}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries({"id": st.integers(-(2**63), 2**63 - 1)}, optional=values), max_size=6))
def test_any_page_decodes_as_the_parsed_records_do(records: list[dict[str, object]]) -> None:
    body = orjson.dumps({"records": records, "next": None})
    decoded = types.decode_page(body, COLUMNS)
    assert decoded is not None
    expected = reference(body)
    assert decoded.schema == expected.schema
    assert decoded.to_pylist() == expected.to_pylist()


@pytest.mark.parametrize("record", [{"id": "1"}, {"id": 1, "balance": 12.5}, {"id": 1, "active": 1}])
def test_a_value_of_another_json_type_goes_to_the_parsed_records(record: dict[str, object]) -> None:
    assert types.decode_page(orjson.dumps({"records": [record]}), COLUMNS) is None

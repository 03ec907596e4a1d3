"""Pages read by Arrow's JSON reader (`types.decode_page`) against the parsed-records path (`types.batch`) they
stand in for: the same batch for every page the reader takes, and None (so `batch` reads it) for every page it
doesn't: numbers sent as text, an unpaged `{"d": [...]}`, a time outside the `/Date(ms)/` pattern."""

from __future__ import annotations

import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.exactonline import types
from connectors.exactonline.entities import Entity, Property

ENTITY = Entity(
    "Things",
    "crm",
    (
        Property("ID", "Edm.Guid"),
        Property("Name", "Edm.String"),
        Property("Blocked", "Edm.Boolean"),
        Property("Amount", "Edm.Double"),
        Property("Count", "Edm.Int32"),
        Property("Big", "Edm.Int64"),
        Property("Modified", "Edm.DateTime"),
    ),
)
COLUMNS = [types.column(p, ENTITY) for p in ENTITY.properties]


def page(records: list[dict[str, object]], **extra: object) -> bytes:
    return orjson.dumps(
        {"d": {"results": [{"__metadata": {"type": "Exact.Web.Api.Models.Thing"}, **r} for r in records], **extra}}
    )


def reference(body: bytes) -> pa.RecordBatch:
    return types.batch(orjson.loads(body)["d"]["results"], COLUMNS)


RECORDS = [
    {
        "ID": "7ab3d7f1-50b5-4c3f-9bd4-8c4b1c5f2d10",
        "Name": 'Smith & "Sons" — café\n🦆',
        "Blocked": False,
        "Amount": 12.5,
        "Count": 3,
        "Big": 9007199254740993,
        "Modified": "/Date(1725328620000)/",
    },
    {"ID": "c0ffee00-0000-0000-0000-000000000001", "Name": None, "Blocked": True, "Amount": -0.1, "Count": None},
    {"ID": "c0ffee00-0000-0000-0000-000000000002", "Modified": "/Date(-86400000+0100)/", "Extra": [1, {"a": 2}]},
]


def test_a_page_decodes_as_the_parsed_records_do() -> None:
    body = page(RECORDS, __next="https://start.exactonline.nl/api/v1/1/crm/Things?$skiptoken=guid'x'")
    decoded = types.decode_page(body, COLUMNS)
    assert decoded is not None
    assert decoded.to_pylist() == reference(body).to_pylist()
    assert decoded.schema == reference(body).schema


def test_an_empty_page() -> None:
    decoded = types.decode_page(page([]), COLUMNS)
    assert decoded is not None and decoded.num_rows == 0


@pytest.mark.parametrize(
    "body",
    [
        page([{"ID": "a", "Amount": "12.5"}]),  # a number sent as text
        orjson.dumps({"d": [{"ID": "a"}]}),  # an endpoint that doesn't page
        page([{"ID": "a", "Modified": "/Date(\uff11\uff12)/"}]),  # digits Python reads and Arrow's pattern doesn't
        page([{"ID": "a", "Count": 1.5}]),
    ],
)
def test_what_the_reader_does_not_take_goes_to_the_parsed_records(body: bytes) -> None:
    assert types.decode_page(body, COLUMNS) is None


def test_a_time_that_is_no_date_is_named() -> None:
    body = page([{"ID": "a", "Modified": "yesterday"}])
    assert types.decode_page(body, COLUMNS) is None
    with pytest.raises(ValueError, match="yesterday"):
        reference(body)


values = {
    "ID": st.uuids().map(str),
    "Name": st.none() | st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
    "Blocked": st.none() | st.booleans(),
    "Amount": st.none() | st.floats(allow_nan=False, allow_infinity=False),
    "Count": st.none() | st.integers(-(2**31), 2**31 - 1),
    "Big": st.none() | st.integers(-(2**63), 2**63 - 1),
    "Modified": st.none() | st.integers(-(10**13), 10**13).map(lambda ms: f"/Date({ms})/"),
}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries({}, optional=values), max_size=6))
def test_any_page_decodes_as_the_parsed_records_do(records: list[dict[str, object]]) -> None:
    body = page(records)
    decoded = types.decode_page(body, COLUMNS)
    assert decoded is not None
    assert decoded.to_pylist() == reference(body).to_pylist()

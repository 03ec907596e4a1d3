"""Pages decoded by Arrow kernels (`types.batch_of_values`, `types.batch`, and a download page read by Arrow's JSON
reader, `lists._download_page`) against the per-value converters they stand in for: the same batch for all-text
pages, pages mixing numbers and text, short rows, and text Arrow's parsers refuse but Python's `int()` takes."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.acton import lists, types
from federation.table import Column

FIELDS = ["_contact_id_", "Name", "Score", "Opted", "created_date"]
COLUMNS = [
    types.column("ContactId", types.TEXT, "_contact_id_"),
    types.column("Name", types.TEXT),
    types.column("Score", types.WHOLE),
    types.column("Opted", types.FLAG),
    types.column("Created", types.MILLIS, "created_date"),
    types.column("Absent", types.TEXT, "not_sent"),
]


def reference(rows: Sequence[Sequence[object]], columns: Sequence[Column]) -> pa.RecordBatch:
    """Value by value, each through the converter of its column's type."""
    arrays = []
    for col in columns:
        at = FIELDS.index(col.api_name) if col.api_name in FIELDS else None
        values = [row[at] if at is not None and at < len(row) else None for row in rows]
        arrays.append(pa.array([types._CONVERT[col.type](v) for v in values], col.type))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema([pa.field(c.name, c.type) for c in columns]))


def check(rows: list[list[object]]) -> None:
    expected = reference(rows, COLUMNS)
    by_values = types.batch_of_values(rows, FIELDS, COLUMNS)
    records = [dict(zip(FIELDS, row, strict=False)) for row in rows]
    by_records = types.batch(records, COLUMNS)
    assert by_values.to_pylist() == expected.to_pylist()
    assert by_records.to_pylist() == expected.to_pylist()
    assert by_values.schema.types == expected.schema.types


def test_a_page_of_text_with_empty_fields() -> None:
    check(
        [
            ["l-1:0", "Ann", "12", "TRUE", "1725328620000"],
            ["l-1:1", "", "", "false", "1725328620001"],
            ["l-1:2", "Zoë 🦆", "-3", "", ""],
        ]
    )


def test_numbers_and_flags_among_the_text() -> None:
    check([["l-1:0", "Ann", 12, True, 1725328620000], ["l-1:1", "Bo", "7", "True", "5"]])


def test_a_record_read_by_id_lacks_the_dates() -> None:
    check([["l-1:0", "Ann", "1", "true"], ["l-1:1", "Bo", "2", "false", "9"]])


def test_text_only_python_parses() -> None:
    check([["l-1:0", "Ann", " 12", "true", "1_000"]])


def test_an_empty_page() -> None:
    check([])


def test_a_malformed_number_is_refused_either_way() -> None:
    with pytest.raises(ValueError, match="twelve"):
        types.batch_of_values([["l-1:0", "Ann", "twelve", "true", "1"]], FIELDS, COLUMNS)


text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6)
digits = st.integers(-(10**12), 10**12)
value = st.one_of(st.just(""), text, digits.map(str), digits, st.booleans(), st.sampled_from(["true", "TRUE", "False"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(value, min_size=4, max_size=5), max_size=6))
def test_any_page_decodes_as_value_by_value(rows: list[list[object]]) -> None:
    try:
        expected = reference(rows, COLUMNS)
    except (ValueError, TypeError, pa.ArrowInvalid, OverflowError):
        with pytest.raises((ValueError, TypeError, pa.ArrowInvalid, OverflowError)):
            types.batch_of_values(rows, FIELDS, COLUMNS)
        return
    assert types.batch_of_values(rows, FIELDS, COLUMNS).to_pylist() == expected.to_pylist()


def downloaded(rows: list[list[object]], headers: Sequence[str] = FIELDS) -> bytes:
    return orjson.dumps(
        {"listId": "l-1", "offset": 0, "count": 1000, "totalCount": 40, "headers": headers, "data": rows}
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(value, min_size=5, max_size=5), max_size=6), st.integers(0, 3))
def test_a_download_page_read_by_arrow_equals_value_by_value(rows: list[list[object]], cut: int) -> None:
    page = lists._download_page(downloaded(rows), FIELDS, COLUMNS)
    if page is None:
        # Only a page with a number or a flag among its values is left to the parsed path.
        assert any(not isinstance(v, str) for row in rows for v in row)
        return
    assert page.total == 40
    assert isinstance(page.rows, lists.ValueLists)
    assert list(page.rows.keys) == [row[0] for row in rows]
    try:
        expected = reference(rows, COLUMNS)
    except (ValueError, TypeError, pa.ArrowInvalid, OverflowError):
        # A malformed number: the page's batch is left to the scan, whose per-value converters name it.
        assert page.rows.batch is None
        return
    assert page.rows.batch is not None
    assert page.rows[cut:].batch.to_pylist() == expected[cut:].to_pylist()  # type: ignore[attr-defined]
    assert [list(row) for row in page.rows[cut:]] == rows[cut:]


def test_a_download_page_in_another_column_order_is_left_to_the_parsed_path() -> None:
    rows: list[list[object]] = [["l-1:0", "Ann", "12", "true", "1"]]
    assert lists._download_page(downloaded(rows, ["_contact_id_", "Score", "Name"]), FIELDS, COLUMNS) is None
    assert lists._download_page(downloaded(rows), FIELDS, COLUMNS) is not None

"""Template pages read by Arrow's JSON reader (`types.decode_page`) against the parsed-records path (`types.batch`):
the same batch for every page the reader takes, and None (so `batch` reads it) for a value of another JSON type.
And a scan's next request sent from what a page's bytes say (`json_pages.key_values`), checked against the page."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import federation
from connectors.template import table, types
from connectors.template.emulator import TemplateEmulator
from federation.errors import InternalError
from federation.json_pages import key_values

from ...template_source import template_properties

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


# -- a scan's next request, from what the page's bytes say ----------------------------------------------------------


@pytest.fixture(scope="module")
def emulator() -> Iterator[TemplateEmulator]:
    with TemplateEmulator(records=1200) as running:
        yield running


def scan(emulator: TemplateEmulator, directory: Path) -> tuple[list[tuple[object, ...]], int]:
    """Every contact's id and name in three pages of 500, and the calls that listed them."""
    before = emulator.calls_by_kind["records"]
    props = {**template_properties(emulator, directory, PageSize="500"), "scheme": "template"}
    with federation.connect({"src": props}) as con:
        rows = con.execute("SELECT id, name FROM src.contacts ORDER BY id").fetchall()
    return rows, emulator.calls_by_kind["records"] - before


def test_pages_whose_bytes_say_nothing_are_decoded_first_with_the_same_rows_and_calls(
    emulator: TemplateEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read = scan(emulator, tmp_path)
    assert len(read[0]) == 1200 and read[1] == 3
    monkeypatch.setattr(table, "key_values", lambda body, name: None)
    assert scan(emulator, tmp_path) == read


def test_a_page_misread_from_its_bytes_fails_the_scan_before_a_later_page_is_returned(
    emulator: TemplateEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def misread(body: bytes, name: str) -> tuple[int, object] | None:
        found = key_values(body, name)
        return None if found is None else (found[0], int(str(found[1])) - 1)

    monkeypatch.setattr(table, "key_values", misread)
    with pytest.raises(InternalError, match=r"a page of contacts holds 500 records ending at key 500, but its bytes"):
        scan(emulator, tmp_path)

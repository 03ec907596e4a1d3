"""`query` pages decoded column by column (`client.columns_of` + `types.from_texts`) against the per-row decode they
replaced (`client.rows_of` + the old `types.batch`, kept here as the reference): the same batch for every page,
whether its data is read from the raw bytes (a large page) or from the parsed tree (a small one)."""

from __future__ import annotations

import sys
import zoneinfo
from collections.abc import Mapping, Sequence

import httpx
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.sageintacct import client, types
from federation.errors import DataError
from federation.table import Column

ZONE = zoneinfo.ZoneInfo("America/New_York")
COLUMNS = [
    types.column({"ID": "RECORDNO", "DATATYPE": "INTEGER"}),
    types.column({"ID": "NAME", "DATATYPE": "TEXT"}),
    types.column({"ID": "ACTIVE", "DATATYPE": "BOOLEAN"}),
    types.column({"ID": "CREDITLIMIT", "DATATYPE": "CURRENCY"}),
    types.column({"ID": "RATE", "DATATYPE": "DECIMAL"}),
    types.column({"ID": "LASTINVOICEDATE", "DATATYPE": "DATE"}),
    types.column({"ID": "WHENMODIFIED", "DATATYPE": "TIMESTAMP"}),
    types.column({"ID": "COMMENTS", "DATATYPE": "TEXT"}),
    types.column({"ID": "DISPLAYCONTACT.EMAIL1", "DATATYPE": "TEXT"}),
]
#: Rows written as the gateway writes them: fields absent from some rows, empty elements of both spellings,
#: entities (one escaped twice), character references, text that is not ASCII, a `>` and a DST-repeated hour.
PAGE = (
    "<CUSTOMER><RECORDNO>1</RECORDNO><NAME>Smith &amp; Sons</NAME><ACTIVE> TRUE </ACTIVE>"
    "<CREDITLIMIT> 12.50 </CREDITLIMIT><RATE>0.12345678</RATE><LASTINVOICEDATE>07/09/2024</LASTINVOICEDATE>"
    "<WHENMODIFIED>01/01/2024 08:41:01</WHENMODIFIED><COMMENTS>&amp;lt;b&amp;gt; caf&#233; &#x00E9; &lt;&gt;"
    "&quot;&apos;</COMMENTS><DISPLAYCONTACT.EMAIL1>a@example.com</DISPLAYCONTACT.EMAIL1></CUSTOMER>"
    "<CUSTOMER><RECORDNO>2</RECORDNO><NAME/><ACTIVE>f</ACTIVE><CREDITLIMIT>-3</CREDITLIMIT><LASTINVOICEDATE>"
    "</LASTINVOICEDATE><WHENMODIFIED>11/03/2024 01:30:00</WHENMODIFIED><COMMENTS></COMMENTS></CUSTOMER>"
    "<CUSTOMER><RECORDNO>3</RECORDNO><NAME>Zürich 東京 ✓ x > y</NAME><ACTIVE>T</ACTIVE><COMMENTS>  </COMMENTS>"
    "<DISPLAYCONTACT.EMAIL1>ü@example.com</DISPLAYCONTACT.EMAIL1></CUSTOMER>"
    "<CUSTOMER><RECORDNO>4</RECORDNO><ACTIVE>\tFalse\n</ACTIVE><RATE>1000.5</RATE>"
    "<WHENMODIFIED>03/10/2024 02:30:00</WHENMODIFIED></CUSTOMER>"
)
#: Past `client._LARGE`: the data is read from the raw bytes, not the tree. The field belongs to no row.
PADDING = f"<PAD>{'x' * 40_000}</PAD>"
_OLD_BOOLEANS = {"true": True, "t": True, "false": False, "f": False}


def reference(
    rows: Sequence[Mapping[str, str | None]], columns: Sequence[Column], zone: zoneinfo.ZoneInfo
) -> pa.RecordBatch:
    """The per-row conversion `types.from_texts` replaced, as it was."""
    arrays = []
    for col in columns:
        texts = [row.get(col.api_name) or None for row in rows]
        if col.type == pa.bool_():
            arrays.append(pa.array([None if t is None else _OLD_BOOLEANS[t.strip().lower()] for t in texts]))
            continue
        strings = pa.array(texts, pa.string())
        if col.type == pa.string():
            arrays.append(strings)
        elif col.type == pa.date32():
            arrays.append(pc.cast(pc.strptime(strings, format="%m/%d/%Y", unit="s"), pa.date32()))
        elif col.type == types.TIMESTAMP:
            local = pc.strptime(strings, format="%m/%d/%Y %H:%M:%S", unit="s")
            placed = pc.assume_timezone(local, timezone=zone.key, ambiguous="earliest", nonexistent="earliest")
            arrays.append(pc.cast(placed, types.TIMESTAMP))
        else:
            arrays.append(pc.cast(pc.utf8_trim_whitespace(strings), col.type))
    schema = pa.schema([pa.field(c.name, c.type, c.nullable) for c in columns])
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def response(rows: str, *, large: bool) -> httpx.Response:
    data = (PADDING if large else "") + rows
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><response><control><status>success</status></control><operation>'
        "<authentication><status>success</status></authentication><result><status>success</status>"
        f'<function>query</function><controlid>f</controlid><data listtype="CUSTOMER" count="0">{data}</data>'
        "</result></operation></response>"
    )
    page = httpx.Response(200, content=body.encode())
    client.root_of(page)
    assert (client._DATA in page.extensions) is large
    return page


def decoded(page: httpx.Response, columns: Sequence[Column] = COLUMNS) -> pa.RecordBatch:
    return types.from_texts(client.columns_of(page, "CUSTOMER", [c.api_name for c in columns]), columns, ZONE)


@pytest.mark.parametrize("large", [True, False], ids=["raw bytes", "tree"])
def test_a_page_decodes_as_it_did_row_by_row(large: bool) -> None:
    page = response(PAGE, large=large)
    expected = reference(client.rows_of(page, "CUSTOMER"), COLUMNS, ZONE)
    actual = decoded(page)
    assert actual.equals(expected)
    assert actual.schema == expected.schema
    assert actual.column("Name").to_pylist() == ["Smith & Sons", None, "Zürich 東京 ✓ x > y", None]
    assert actual.column("Comments").to_pylist() == ["&lt;b&gt; café é <>\"'", None, "  ", None]
    assert actual.column("Active").to_pylist() == [True, False, True, False]


@pytest.mark.parametrize("large", [True, False], ids=["raw bytes", "tree"])
def test_a_page_without_rows_is_an_empty_batch(large: bool) -> None:
    page = response("", large=large)
    actual = decoded(page)
    assert actual.num_rows == 0
    assert actual.equals(reference([], COLUMNS, ZONE))


def test_a_fields_last_non_empty_text_in_a_row_wins_and_fields_outside_rows_are_ignored() -> None:
    rows = (
        "<NAME>before any row</NAME><CUSTOMER><NAME>first</NAME><NAME>second</NAME><NAME/></CUSTOMER>"
        "<CUSTOMER>text of the row<NAME></NAME></CUSTOMER><CUSTOMER><NAME/>after a self-closing tag</CUSTOMER>"
    )
    page = response(rows, large=True)
    columns = client.columns_of(page, "CUSTOMER", ["NAME", "CUSTOMER", "MISSING", "NAME"])
    expected = client.rows_of(page, "CUSTOMER")
    assert (
        columns["NAME"].to_pylist()
        == [row.get("NAME") for row in expected]
        == ["second", None, "after a self-closing tag"]
    )
    assert columns["CUSTOMER"].to_pylist() == columns["MISSING"].to_pylist() == [None, None, None]


def test_a_value_that_is_no_boolean_names_its_column() -> None:
    page = response("<CUSTOMER><ACTIVE>true</ACTIVE></CUSTOMER><CUSTOMER><ACTIVE>yes</ACTIVE></CUSTOMER>", large=True)
    with pytest.raises(DataError, match=r"'Active'.*'yes'"):
        decoded(page)


FIELDS = ["RECORDNO", "NAME", "DISPLAYCONTACT.EMAIL1", "COMMENTS"]


def joined(fragments: Sequence[str], max_size: int) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(fragments), max_size=max_size).map("".join)


texts = joined([*"ab é東\t\n>;#/", "&", "&amp;", "&amp;lt;", "&#233;", "&#x1F600;", "&lt;", "&nbsp"], 8)
elements = st.tuples(st.sampled_from([*FIELDS, "OTHER"]), texts, st.sampled_from(["<{0}>{1}</{0}>", "<{0}/>{1}"]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(elements, max_size=6), max_size=8))
def test_any_page_of_rows_reads_as_rows_of_reads_it(rows: list[list[tuple[str, str, str]]]) -> None:
    xml = "".join(
        "<CUSTOMER>" + "".join(form.format(field, text) for field, text, form in row) + "</CUSTOMER>" for row in rows
    )
    page = response(xml, large=True)
    expected = client.rows_of(page, "CUSTOMER")
    columns = client.columns_of(page, "CUSTOMER", FIELDS)
    assert {f: columns[f].to_pylist() for f in FIELDS} == {f: [row.get(f) for row in expected] for f in FIELDS}


@settings(max_examples=200, deadline=None)
@given(joined([*"<>/ \n&;#éx", "CUSTOMER", "NAME", "COMMENTS", "&amp;", "&#233;"], 200))
def test_any_data_at_all_reads_as_rows_of_reads_it(data: str) -> None:
    page = response(data, large=True)
    expected = client.rows_of(page, "CUSTOMER")
    columns = client.columns_of(page, "CUSTOMER", ["NAME", "COMMENTS"])
    assert columns["NAME"].to_pylist() == [row.get("NAME") for row in expected]
    assert columns["COMMENTS"].to_pylist() == [row.get("COMMENTS") for row in expected]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.sampled_from(["true", "T", " FALSE ", "f\n", "\u2003t\u00a0", "\x1ctrue\x1f", "", "yes", "tru"]),
            st.text(max_size=6),
        ),
        max_size=10,
    )
)
def test_booleans_convert_as_they_did(values: list[str | None]) -> None:
    rows = [{"ACTIVE": value} for value in values]
    active = [c for c in COLUMNS if c.name == "Active"]
    try:
        expected = reference(rows, active, ZONE)
    except KeyError:
        with pytest.raises(DataError):
            types.batch(rows, active, ZONE)
        return
    assert types.batch(rows, active, ZONE).equals(expected)


def test_arrow_trims_and_lowers_booleans_as_python_does() -> None:
    """`types` reads booleans with Arrow's trim and lower in place of `str.strip` and `str.lower`: the same
    characters must be whitespace, and no other character may lower to a letter of `true` or `false`."""
    characters = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000]
    trimmed = pc.utf8_trim_whitespace(pa.array([f"x{c}" for c in characters])).to_pylist()
    assert [c for c, t in zip(characters, trimmed, strict=True) if t == "x"] == [c for c in characters if c.isspace()]
    letters = set("truefals")
    lowered = pc.utf8_lower(pa.array(characters)).to_pylist()
    touching = [(c, low) for c, low in zip(characters, lowered, strict=True) if letters & set(low + c.lower())]
    assert touching == [(c, c.lower()) for c in characters if c.lower() in letters]

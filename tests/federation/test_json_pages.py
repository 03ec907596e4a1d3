"""`json_records`: a JSON page's records as Arrow columns, or None for what it can't take as the given types; and
`key_values`: a key's count and last value read from the bytes, exactly what the parsed body holds."""

from __future__ import annotations

import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from federation.json_pages import json_records, key_values

FIELDS = [pa.field("id", pa.int64()), pa.field("name", pa.string()), pa.field("score", pa.float64())]


def test_records_under_a_path_with_missing_and_unknown_fields() -> None:
    body = orjson.dumps(
        {
            "d": {
                "results": [{"id": 1, "name": "Zoë\n🦆", "score": 2, "other": {"x": [1]}}, {"id": 2}],
                "__next": "n",
            },
            "top": 1,
        }
    )
    found = json_records(body, ("d", "results"), FIELDS)
    assert found is not None
    assert [a.to_pylist() for a in found] == [[1, 2], ["Zoë\n🦆", None], [2.0, None]]
    assert [a.type for a in found] == [f.type for f in FIELDS]


def test_a_pretty_printed_body() -> None:
    body = orjson.dumps({"records": [{"id": 1}, {"id": 2}]}, option=orjson.OPT_INDENT_2)
    found = json_records(body, ("records",), FIELDS)
    assert found is not None and found[0].to_pylist() == [1, 2]


@pytest.mark.parametrize(
    "page",
    [
        {"records": [{"id": "1"}]},  # a number sent as text
        {"records": [{"id": 1.5}]},
        {"records": None},
        {"other": []},
        {"records": [None]},
        {"records": [[1, 2]]},
    ],
)
def test_what_it_cannot_take_is_none(page: object) -> None:
    assert json_records(orjson.dumps(page), ("records",), FIELDS) is None


def test_a_repeated_field_or_none_is_none() -> None:
    body = orjson.dumps({"records": [{"id": 1}]})
    assert json_records(body, ("records",), [FIELDS[0], FIELDS[0]]) is None
    assert json_records(body, ("records",), []) is None


def test_an_empty_list() -> None:
    found = json_records(orjson.dumps({"records": []}), ("records",), FIELDS)
    assert found is not None and [len(a) for a in found] == [0, 0, 0]


# -- key_values: a key's count and last value, read from the bytes -------------------------------------------------

key = st.integers(-(2**63), 2**63 - 1) | st.text(max_size=6)
#: Other keys and values that look like the key from inside a string: quotes, backslashes and colons around `id`.
tricky = st.text(alphabet=st.sampled_from(['"', "\\", ":", "i", "d", "{", " ", "é"]), max_size=12)
others = st.dictionaries(tricky.filter(lambda text: text != "id"), tricky, max_size=3)
record = st.builds(lambda before, value, after: {**before, "id": value, **after}, others, key, others)


@settings(max_examples=300, deadline=None)
@given(st.lists(record), st.booleans())
def test_key_values_reads_what_the_parsed_body_holds(records: list[dict[str, object]], indented: bool) -> None:
    body = orjson.dumps({"records": records, "total": 9}, option=orjson.OPT_INDENT_2 if indented else 0)
    found = key_values(body, "id")
    assert found == ((len(records), records[-1]["id"]) if records else None)


@pytest.mark.parametrize(
    "body",
    [
        *(b'{"id":%s}' % value for value in (b"1.5", b"1e3", b"null", b"true", b'{"a":1}', b"01")),
        b'{"id":"a\x01b"}',  # a control character, which JSON text can't hold
        b'{"id" :1}',
        b'{"x":"a"}',
    ],
)
def test_key_values_of_another_value_or_form_is_none(body: bytes) -> None:
    assert key_values(body, "id") is None


def test_key_values_reads_an_integer_exactly_at_any_size() -> None:
    assert key_values(b'{"id":-%s}' % (b"9" * 30), "id") == (1, -int("9" * 30))

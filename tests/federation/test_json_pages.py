"""`json_records`: a JSON page's records as Arrow columns, or None for what it can't take as the given types."""

from __future__ import annotations

import orjson
import pyarrow as pa
import pytest

from federation.json_pages import json_records

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

"""The template API's `where` compiler against fixture files: a predicate in, the exact JSON out.

Each case in `fixtures/where.txt` is three lines after a `--` title: a predicate written with our predicate
constructors (`None` for no predicate) and the compact JSON expected (`null`: no `where` parameter).
"""

from __future__ import annotations

import datetime
import decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.template.query import compile_where, page_params
from federation.predicates import And, Comparison, InList, IsNull, Not, Operator, Or, negation_normal_form

FIXTURES = Path(__file__).parent / "fixtures"
NAMESPACE: dict[str, Any] = {
    "Comparison": Comparison,
    "InList": InList,
    "IsNull": IsNull,
    "And": And,
    "Or": Or,
    "Not": Not,
    "Op": Operator,
    "Decimal": decimal.Decimal,
    "date": datetime.date,
    "datetime": datetime.datetime,
    "UTC": datetime.UTC,
}
NAMES = {n: n for n in ("id", "name", "email", "city", "score", "rating", "active", "birthday", "updated_at")}


def cases() -> list[tuple[str, str, str]]:
    blocks = (FIXTURES / "where.txt").read_text(encoding="utf-8").strip().split("\n\n")
    found = []
    for block in blocks:
        title, source, expected = block.strip().split("\n")
        found.append((title.removeprefix("-- "), source, expected))
    return found


@pytest.mark.parametrize(("title", "source", "expected"), cases(), ids=[c[0] for c in cases()])
def test_where(title: str, source: str, expected: str) -> None:
    predicate = eval(source, NAMESPACE)  # the fixture's own constructor expressions
    compiled = compile_where(negation_normal_form(predicate) if predicate is not None else None, NAMES)
    assert orjson.dumps(compiled).decode() == expected


def test_page_parameters() -> None:
    where = {"field": "id", "op": "gt", "value": 200}
    assert page_params(["id", "name"], where, order="id", limit=200) == {
        "fields": "id,name",
        "order": "id",
        "limit": "200",
        "offset": "0",
        "where": '{"field":"id","op":"gt","value":200}',
    }

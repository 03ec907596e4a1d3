"""The `$filter` compiler against fixture files: a predicate in, the exact filter text out, every value escaped.

Each case in `fixtures/filter.txt` is three lines after a `--` title: a predicate written with our predicate
constructors (`None` for no predicate) and the expected `$filter` text (`None`: no `$filter` parameter). The
columns' Edm types come from the entity catalog (Accounts, plus Divisions' Int64 `HID` and Int32 `Code`).
"""

from __future__ import annotations

import datetime
import decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.exactonline.entities import BY_NAME
from connectors.exactonline.odata import compile_filter
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
TYPES = {p.name: (p.name, p.edm) for p in BY_NAME["Accounts"].properties}
TYPES |= {"HID": ("HID", "Edm.Int64"), "Code": ("Code", "Edm.Int32")}


def cases() -> list[tuple[str, str, str]]:
    blocks = (FIXTURES / "filter.txt").read_text(encoding="utf-8").strip().split("\n\n")
    return [(t.removeprefix("-- "), s, e) for t, s, e in (b.strip().split("\n") for b in blocks)]


@pytest.mark.parametrize(("title", "source", "expected"), cases(), ids=[c[0] for c in cases()])
def test_filter(title: str, source: str, expected: str) -> None:
    predicate = eval(source, NAMESPACE)  # the fixture's own constructor expressions
    compiled = compile_filter(negation_normal_form(predicate) if predicate is not None else None, TYPES)
    assert str(compiled) == expected

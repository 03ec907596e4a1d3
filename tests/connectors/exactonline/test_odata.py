"""The `$filter` compiler against fixture files: a predicate in, the exact filter text out, every value escaped.

Each case in `fixtures/filter.txt` is three lines after a `--` title: a predicate written with our predicate
constructors (`None` for no predicate) and the expected `$filter` text (`None`: no `$filter` parameter). The
columns' Edm types come from the entity catalog (Accounts, plus Divisions' Int64 `HID` and Int32 `Code`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.exactonline.entities import BY_NAME
from connectors.exactonline.odata import compile_filter
from federation.predicates import negation_normal_form

from ...compiler_fixtures import fixture_cases, predicate

FIXTURES = Path(__file__).parent / "fixtures"
TYPES = {p.name: (p.name, p.edm) for p in BY_NAME["Accounts"].properties}
TYPES |= {"HID": ("HID", "Edm.Int64"), "Code": ("Code", "Edm.Int32")}


def cases() -> list[tuple[str, str, str]]:
    return fixture_cases(FIXTURES / "filter.txt")


@pytest.mark.parametrize(("title", "source", "expected"), cases(), ids=[c[0] for c in cases()])
def test_filter(title: str, source: str, expected: str) -> None:
    written = predicate(source)
    compiled = compile_filter(negation_normal_form(written) if written is not None else None, TYPES)
    assert str(compiled) == expected

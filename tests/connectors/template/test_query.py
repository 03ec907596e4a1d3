"""The template API's `where` compiler against fixture files: a predicate in, the exact JSON out.

Each case in `fixtures/where.txt` is three lines after a `--` title: a predicate written with our predicate
constructors (`None` for no predicate) and the compact JSON expected (`null`: no `where` parameter).
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from connectors.template.query import compile_where, page_params
from federation.predicates import negation_normal_form

from ...compiler_fixtures import fixture_cases, predicate

FIXTURES = Path(__file__).parent / "fixtures"
NAMES = {n: n for n in ("id", "name", "email", "city", "score", "rating", "active", "birthday", "updated_at")}


def cases() -> list[tuple[str, str, str]]:
    return fixture_cases(FIXTURES / "where.txt")


@pytest.mark.parametrize(("title", "source", "expected"), cases(), ids=[c[0] for c in cases()])
def test_where(title: str, source: str, expected: str) -> None:
    written = predicate(source)
    compiled = compile_where(negation_normal_form(written) if written is not None else None, NAMES)
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

"""The SOQL compiler against fixture files: a predicate in, the exact SOQL out.

Each case in `fixtures/soql/*.txt` is three lines after a `--` title: a predicate written with our predicate
constructors (or `LIMIT n`), and the SOQL expected for `SELECT Id, Name FROM Account` with it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.salesforce.soql import MAX_ENCODED_QUERY, compile_select, compile_selects, encoded_length
from connectors.salesforce.table import table_info
from federation.predicates import And, Comparison, InList, Operator, pushable

from ...compiler_fixtures import fixture_cases, predicate

FIXTURES = Path(__file__).parent / "fixtures" / "soql"

FIELDS = [
    {"name": "Id", "type": "id", "filterable": True},
    {"name": "Name", "type": "string", "filterable": True},
    {"name": "Industry", "type": "picklist", "filterable": True},
    {"name": "OwnerId", "type": "reference", "filterable": True},
    {"name": "NumberOfEmployees", "type": "int", "filterable": True},
    {"name": "AnnualRevenue", "type": "currency", "precision": 18, "scale": 2, "filterable": True},
    {"name": "Rating__c", "type": "double", "filterable": True},
    {"name": "IsActive__c", "type": "boolean", "filterable": True},
    {"name": "LastActivityDate", "type": "date", "filterable": True},
    {"name": "CreatedDate", "type": "datetime", "filterable": True},
    {"name": "Description", "type": "textarea", "filterable": False},
]
INFO = table_info({"name": "Account", "fields": FIELDS})


def cases() -> list[tuple[str, str, str]]:
    return [
        (f"{path.stem}: {title}", source, expected)
        for path in sorted(FIXTURES.glob("*.txt"))
        for title, source, expected in fixture_cases(path)
    ]


def compile_case(source: str) -> str:
    if source.startswith("LIMIT "):
        return compile_select("Account", ["Id", "Name"], None, INFO.column, limit=int(source[6:]))
    written = predicate(source)
    assert written is not None
    return compile_select("Account", ["Id", "Name"], pushable(written, INFO.can_push), INFO.column)


@pytest.mark.parametrize(("title", "source", "expected"), cases(), ids=[c[0] for c in cases()])
def test_fixture(title: str, source: str, expected: str) -> None:
    assert compile_case(source) == expected


def test_fixtures_were_found() -> None:
    assert len(cases()) >= 20


def test_an_oversized_where_is_widened_not_truncated() -> None:
    many = tuple(f"{i:015d}AAA" for i in range(1000))
    predicate = And((InList("Id", many), Comparison("NumberOfEmployees", Operator.EQ, 3)))
    soql = compile_select("Account", ["Id"], pushable(predicate, INFO.can_push), INFO.column)
    assert soql == "SELECT Id FROM Account WHERE NumberOfEmployees = 3"
    assert encoded_length(soql) < MAX_ENCODED_QUERY


@pytest.mark.parametrize("value", ["Zürich {}", "東京データ {}", "Rocket 🚀 {}", "plain {}"])
def test_a_long_in_list_is_split_by_encoded_bytes_and_keeps_every_value(value: str) -> None:
    values = tuple(value.format(i) for i in range(3000))
    predicate = And((InList("Industry", values), Comparison("NumberOfEmployees", Operator.EQ, 3)))
    statements = compile_selects("Account", ["Id"], pushable(predicate, INFO.can_push), INFO.column)
    assert len(statements) > 1
    assert all(encoded_length(s) <= MAX_ENCODED_QUERY for s in statements)
    assert all(s.endswith("AND NumberOfEmployees = 3)") for s in statements)
    sent = [v for s in statements for v in s.split("Industry IN (")[1].split(")")[0].split(", ")]
    assert len(sent) == len(values)  # every value once: the chunks are disjoint and complete


def test_a_long_not_in_list_is_widened_not_split() -> None:
    values = tuple(f"Industry {i}" for i in range(3000))
    predicate = InList("Industry", values, negated=True)
    assert compile_selects("Account", ["Id"], predicate, INFO.column) == ["SELECT Id FROM Account"]

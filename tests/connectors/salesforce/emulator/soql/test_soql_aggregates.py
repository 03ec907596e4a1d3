"""Aggregate queries: GROUP BY, HAVING, the aggregate functions, expr/alias naming, and their errors.

Groups of the sample data (test_soql_where.py) by Industry, which groups case-insensitively:
Banking = Acme + Initech_%, Retail = acme labs + Umbrella ("retail"), null = Globex.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from connectors.salesforce.emulator.soql import QueryResult, SoqlError

AGG = {"type": "AggregateResult"}


def test_group_by_with_unaliased_count(run: Callable[..., QueryResult]) -> None:
    result = run("SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry")
    assert result.object_name == "Account" and result.total_size == 3
    assert list(result.rows) == [
        {"attributes": AGG, "Industry": "Banking", "expr0": 2},
        {"attributes": AGG, "Industry": "Retail", "expr0": 2},
        {"attributes": AGG, "Industry": None, "expr0": 1},
    ]


def test_every_function_with_aliases(rows: Callable[..., list[dict[str, Any]]]) -> None:
    found = rows(
        "SELECT Industry ind, COUNT(Id) cnt, SUM(AnnualRevenue), AVG(NumberOfEmployees), MIN(CreatedDate), "
        "MAX(LastActivityDate) FROM Account GROUP BY Industry ORDER BY Industry NULLS LAST"
    )
    assert found == [
        {"attributes": AGG, "ind": "Banking", "cnt": 2, "expr0": 6000000, "expr1": 550.0,
         "expr2": "2024-04-01T00:00:00.000+0000", "expr3": "2024-05-14"},
        {"attributes": AGG, "ind": "Retail", "cnt": 2, "expr0": 250000.5, "expr1": 20.0,
         "expr2": "2024-05-14T23:00:00.000+0000", "expr3": "2024-05-16"},
        {"attributes": AGG, "ind": None, "cnt": 1, "expr0": None, "expr1": 5.0,
         "expr2": "2023-12-31T23:59:59.000+0000", "expr3": None},
    ]  # fmt: skip


def test_aggregates_without_group_by_make_one_row(run: Callable[..., QueryResult]) -> None:
    result = run(
        "SELECT COUNT(Id), COUNT(Industry), COUNT_DISTINCT(Industry), SUM(NumberOfEmployees), MAX(Name) top, "
        "MIN(Name) FROM Account"
    )
    assert result.total_size == 1
    assert list(result.rows) == [
        {"attributes": AGG, "expr0": 5, "expr1": 4, "expr2": 2, "expr3": 1125, "top": "Umbrella", "expr4": "Acme"}
    ]


def test_aggregates_over_no_records(rows: Callable[..., list[dict[str, Any]]]) -> None:
    found = rows("SELECT COUNT(Id), SUM(AnnualRevenue), MAX(CreatedDate) FROM Account WHERE Name = 'nobody'")
    assert found == [{"attributes": AGG, "expr0": 0, "expr1": None, "expr2": None}]
    assert rows("SELECT Industry, COUNT(Id) FROM Account WHERE Name = 'nobody' GROUP BY Industry") == []


def test_query_all_counts_deleted_records(rows: Callable[..., list[dict[str, Any]]]) -> None:
    assert rows("SELECT COUNT(Id) FROM Account", include_deleted=True)[0]["expr0"] == 6


@pytest.mark.parametrize(
    ("having", "expected"),
    [
        ("COUNT(Id) > 1", ["Banking", "Retail"]),
        ("Industry = 'retail'", ["Retail"]),
        ("SUM(AnnualRevenue) > 1000000", ["Banking"]),
        ("COUNT(Id) = 1 OR MAX(LastActivityDate) = TOMORROW", ["Retail", None]),
        ("MIN(CreatedDate) < 2024-01-01T00:00:00Z", [None]),
        ("Industry != null AND (NOT COUNT(Id) IN (2))", []),
    ],
)
def test_having(rows: Callable[..., list[dict[str, Any]]], having: str, expected: list[str | None]) -> None:
    found = rows(f"SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry HAVING {having}")
    assert [row["Industry"] for row in found] == expected


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("ORDER BY SUM(NumberOfEmployees) DESC", ["Banking", "Retail", None]),
        ("ORDER BY COUNT(Id), Industry DESC", [None, "Retail", "Banking"]),
        ("ORDER BY COUNT(Id) DESC, Industry LIMIT 1 OFFSET 1", ["Retail"]),
        ("ORDER BY Industry DESC NULLS FIRST", [None, "Retail", "Banking"]),
    ],
)
def test_ordering_and_paging_groups(
    rows: Callable[..., list[dict[str, Any]]], tail: str, expected: list[str | None]
) -> None:
    found = rows(f"SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry {tail}")
    assert [row["Industry"] for row in found] == expected


def test_grouped_parent_field_is_named_by_its_field(rows: Callable[..., list[dict[str, Any]]]) -> None:
    found = rows("SELECT Owner.Name, COUNT(Id) FROM Account GROUP BY Owner.Name ORDER BY Owner.Name")
    assert found == [
        {"attributes": AGG, "Name": None, "expr0": 1},
        {"attributes": AGG, "Name": "Al", "expr0": 2},
        {"attributes": AGG, "Name": "Jo", "expr0": 2},
    ]
    aliased = rows("SELECT Owner.Name boss FROM Account GROUP BY Owner.Name ORDER BY Owner.Name DESC NULLS LAST")
    assert [row["boss"] for row in aliased] == ["Jo", "Al", None]


def test_group_by_several_fields_and_no_aggregates(rows: Callable[..., list[dict[str, Any]]]) -> None:
    found = rows("SELECT Industry, IsActive__c, COUNT(Id) FROM Account GROUP BY Industry, IsActive__c")
    assert [(r["Industry"], r["IsActive__c"], r["expr0"]) for r in found] == [
        ("Banking", True, 2),
        ("Retail", False, 2),
        (None, None, 1),
    ]
    plain = rows("SELECT Industry FROM Account GROUP BY Industry")
    assert plain == [{"attributes": AGG, "Industry": value} for value in ("Banking", "Retail", None)]


def test_count_distinct_and_min_max_of_text(rows: Callable[..., list[dict[str, Any]]]) -> None:
    found = rows("SELECT COUNT_DISTINCT(Code__c), MIN(Code__c), MAX(Industry), COUNT_DISTINCT(OwnerId) FROM Account")
    # Code__c is case-sensitive: abc and ABC are distinct, and ABC sorts first.
    assert found == [{"attributes": AGG, "expr0": 4, "expr1": "ABC", "expr2": "Retail", "expr3": 2}]


@pytest.mark.parametrize(
    ("query", "column", "explanation"),
    [
        ("SELECT Name, COUNT(Id) FROM Account GROUP BY Industry", 8, "Field must be grouped or aggregated: Name"),
        ("SELECT Name, COUNT(Id) FROM Account", 8, "Field must be grouped or aggregated: Name"),
        (
            "SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry ORDER BY Name",
            68,
            "Ordered field must be grouped or aggregated: Name",
        ),
        (
            "SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry HAVING Name = 'x'",
            66,
            "Field must be grouped or aggregated: Name",
        ),
        ("SELECT Id, COUNT(Id) FROM Account GROUP BY Id", 18, "Grouped field should not be aggregated: Id"),
        ("SELECT SUM(Name) FROM Account", 12, "field Name does not support aggregate operator SUM"),
        ("SELECT AVG(CreatedDate) FROM Account", 12, "field CreatedDate does not support aggregate operator AVG"),
        ("SELECT MAX(IsActive__c) FROM Account", 12, "field IsActive__c does not support aggregate operator MAX"),
        ("SELECT FIELDS(STANDARD), COUNT(Id) FROM Account", 8, "Field must be grouped or aggregated: Id"),
    ],
)
def test_aggregate_errors(error: Callable[[str], SoqlError], query: str, column: int, explanation: str) -> None:
    err = error(query)
    assert err.error_code == "MALFORMED_QUERY"
    assert err.message.endswith(f"ERROR at Row:1:Column:{column}\n{explanation}")


def test_ungroupable_field(error: Callable[[str], SoqlError]) -> None:
    err = error("SELECT Description, COUNT(Id) FROM Account GROUP BY Description")
    assert err.error_code == "INVALID_FIELD"
    assert err.message.endswith("ERROR at Row:1:Column:53\nfield 'Description' can not be grouped in a query call")


def test_having_literal_must_suit_the_aggregate(error: Callable[[str], SoqlError]) -> None:
    err = error("SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry HAVING COUNT(Id) > '1'")
    assert err.error_code == "INVALID_FIELD" and "must be of type integer" in err.message

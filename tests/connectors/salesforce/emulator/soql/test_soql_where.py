"""WHERE: every operator, the null rules, case-insensitivity, LIKE, Ids, multi-select picklists, date literals,
semi-joins and the typing errors.

Sample accounts (conftest), in insertion order; the clock is Wednesday 2024-05-15 10:00 UTC:

=========  ========  ==========  =====  ======  ====================  ==========  =====  ====  =====
Name       Industry  Revenue     Empl.  Active  CreatedDate (UTC)     LastActiv.  Owner  Tags  Code
=========  ========  ==========  =====  ======  ====================  ==========  =====  ====  =====
Acme       Banking   1000000     100    true    2024-05-10 12:00      2024-05-14  Jo     A;B   abc
acme labs  Retail    250000.5    20     false   2024-05-15 08:30      2024-05-15  Al     B;C   ABC
Globex     null      null        5      null    2023-12-31 23:59:59   null        null   null  null
Initech_%  Banking   5000000     1000   true    2024-04-01 00:00      2024-03-31  Jo     C     x
Umbrella   retail    0           null   false   2024-05-14 23:00      2024-05-16  Al     A;C   y
=========  ========  ==========  =====  ======  ====================  ==========  =====  ====  =====

plus "Deleted Co" (Banking) in the recycle bin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from connectors.salesforce.emulator.soql import SoqlError

from .conftest import MemoryCatalog

ALL = ["Acme", "acme labs", "Globex", "Initech_%", "Umbrella"]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Industry = 'banking'", ["Acme", "Initech_%"]),
        ("Industry = 'RETAIL'", ["acme labs", "Umbrella"]),
        ("Industry != 'Banking'", ["acme labs", "Globex", "Umbrella"]),
        ("Industry <> 'Banking'", ["acme labs", "Globex", "Umbrella"]),
        ("Industry = null", ["Globex"]),
        ("Industry != null", ["Acme", "acme labs", "Initech_%", "Umbrella"]),
        ("Name < 'b'", ["Acme", "acme labs"]),
        ("Name > 'H'", ["Initech_%", "Umbrella"]),
        ("Name >= 'globex'", ["Globex", "Initech_%", "Umbrella"]),
        ("Name <= 'ACME'", ["Acme"]),
        ("NumberOfEmployees > 20", ["Acme", "Initech_%"]),
        ("NumberOfEmployees >= 20", ["Acme", "acme labs", "Initech_%"]),
        ("NumberOfEmployees < 20", ["Globex"]),
        ("NumberOfEmployees <= 5", ["Globex"]),
        ("NumberOfEmployees = 100.0", ["Acme"]),
        ("NumberOfEmployees != 100", ["acme labs", "Globex", "Initech_%", "Umbrella"]),
        ("AnnualRevenue = 250000.5", ["acme labs"]),
        ("AnnualRevenue = 1000000", ["Acme"]),
        ("AnnualRevenue < 1", ["Umbrella"]),
        ("AnnualRevenue > -1", ["Acme", "acme labs", "Initech_%", "Umbrella"]),
        ("Industry IN ('banking', 'Retail')", ["Acme", "acme labs", "Initech_%", "Umbrella"]),
        ("Industry IN ('Banking', null)", ["Acme", "Globex", "Initech_%"]),
        ("Industry NOT IN ('Banking')", ["acme labs", "Umbrella"]),
        ("NumberOfEmployees IN (5, 20)", ["acme labs", "Globex"]),
        ("NumberOfEmployees NOT IN (5, 20)", ["Acme", "Initech_%"]),
        ("NumberOfEmployees > null", []),
    ],
)
def test_comparison_operators(names: Callable[[str], list[str]], condition: str, expected: list[str]) -> None:
    assert names(f"WHERE {condition}") == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Name LIKE 'acme%'", ["Acme", "acme labs"]),
        ("Name LIKE '%LABS'", ["acme labs"]),
        ("Name LIKE 'acme'", ["Acme"]),
        ("Name LIKE 'Um_rella'", ["Umbrella"]),
        ("Name LIKE 'Um_ella'", []),
        ("Name LIKE 'Initech\\_\\%'", ["Initech_%"]),
        ("Name LIKE 'Initech\\_'", []),
        ("Name LIKE '%\\%'", ["Initech_%"]),
        ("Industry LIKE 'ret%'", ["acme labs", "Umbrella"]),
        ("NOT Name LIKE 'acme%'", ["Globex", "Initech_%", "Umbrella"]),
        ("Name LIKE null", []),
    ],
)
def test_like(names: Callable[[str], list[str]], condition: str, expected: list[str]) -> None:
    assert names(f"WHERE {condition}") == expected


def test_like_wildcards_cross_newlines(catalog: MemoryCatalog, names: Callable[[str], list[str]]) -> None:
    catalog.add("Account", Name="two\nlines")
    assert names("WHERE Name LIKE 'two%'") == ["two\nlines"]
    assert names("WHERE Name = 'two\\nlines'") == ["two\nlines"]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Code__c = 'abc'", ["Acme"]),
        ("Code__c = 'ABC'", ["acme labs"]),
        ("Code__c LIKE 'A%'", ["acme labs"]),
        ("Code__c IN ('abc', 'X')", ["Acme"]),
        ("Code__c > 'a'", ["Acme", "Initech_%", "Umbrella"]),
    ],
)
def test_case_sensitive_fields_compare_exactly(
    names: Callable[[str], list[str]], condition: str, expected: list[str]
) -> None:
    assert names(f"WHERE {condition}") == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("IsActive__c = true", ["Acme", "Initech_%"]),
        ("IsActive__c = FALSE", ["acme labs", "Globex", "Umbrella"]),
        ("IsActive__c = null", ["acme labs", "Globex", "Umbrella"]),
        ("IsActive__c != null", ["Acme", "Initech_%"]),
        ("IsActive__c != true", ["acme labs", "Globex", "Umbrella"]),
        ("IsActive__c IN (true)", ["Acme", "Initech_%"]),
    ],
)
def test_booleans_have_no_null(names: Callable[[str], list[str]], condition: str, expected: list[str]) -> None:
    assert names(f"WHERE {condition}") == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Tags__c INCLUDES ('A')", ["Acme", "Umbrella"]),
        ("Tags__c INCLUDES ('a;c')", ["Umbrella"]),
        ("Tags__c INCLUDES ('A;B', 'C')", ["Acme", "acme labs", "Initech_%", "Umbrella"]),
        ("Tags__c EXCLUDES ('C')", ["Acme", "Globex"]),
        ("Tags__c = 'B;A'", ["Acme"]),
        ("Tags__c != 'C'", ["Acme", "acme labs", "Globex", "Umbrella"]),
    ],
)
def test_multi_select_picklists(names: Callable[[str], list[str]], condition: str, expected: list[str]) -> None:
    assert names(f"WHERE {condition}") == expected


def test_ids_match_in_15_and_18_characters(catalog: MemoryCatalog, names: Callable[[str], list[str]]) -> None:
    acme = catalog.records("Account")[0]
    jo = catalog.records("User")[0]
    assert len(acme["Id"]) == 18
    assert names(f"WHERE Id = '{acme['Id']}'") == ["Acme"]
    assert names(f"WHERE Id = '{acme['Id'][:15]}'") == ["Acme"]
    assert names(f"WHERE OwnerId = '{jo['Id'][:15]}'") == ["Acme", "Initech_%"]
    assert names(f"WHERE OwnerId IN ('{jo['Id']}', null)") == ["Acme", "Globex", "Initech_%"]
    assert names(f"WHERE Id != '{acme['Id']}'") == ALL[1:]
    # Ids order by their characters, so a range scans records in creation order (PK chunking).
    assert names(f"WHERE Id > '{acme['Id']}' ORDER BY Id DESC") == ["Umbrella", "Initech_%", "Globex", "acme labs"]
    # 15-character Ids are case-sensitive: another case is another record.
    assert names(f"WHERE Id = '{acme['Id'][:15].lower()}'") == []


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("LastActivityDate = TODAY", ["acme labs"]),
        ("LastActivityDate = YESTERDAY", ["Acme"]),
        ("LastActivityDate = TOMORROW", ["Umbrella"]),
        ("LastActivityDate > TODAY", ["Umbrella"]),
        ("LastActivityDate < TODAY", ["Acme", "Initech_%"]),
        ("LastActivityDate <= TODAY", ["Acme", "acme labs", "Initech_%"]),
        ("LastActivityDate >= TODAY", ["acme labs", "Umbrella"]),
        ("LastActivityDate != TODAY", ["Acme", "Globex", "Initech_%", "Umbrella"]),
        ("LastActivityDate = THIS_WEEK", ["Acme", "acme labs", "Umbrella"]),
        ("LastActivityDate = LAST_WEEK", []),
        ("LastActivityDate = THIS_MONTH", ["Acme", "acme labs", "Umbrella"]),
        ("LastActivityDate = LAST_N_DAYS:1", ["Acme", "acme labs"]),
        ("LastActivityDate = NEXT_N_DAYS:1", ["Umbrella"]),
        ("LastActivityDate = LAST_90_DAYS", ["Acme", "acme labs", "Initech_%"]),
        ("LastActivityDate = LAST_N_MONTHS:2", ["Initech_%"]),
        ("LastActivityDate = N_MONTHS_AGO:2", ["Initech_%"]),
        ("LastActivityDate = THIS_QUARTER", ["Acme", "acme labs", "Umbrella"]),
        ("LastActivityDate = LAST_QUARTER", ["Initech_%"]),
        ("LastActivityDate IN (YESTERDAY, TOMORROW)", ["Acme", "Umbrella"]),
        ("LastActivityDate = 2024-03-31", ["Initech_%"]),
        ("LastActivityDate > 2024-05-14", ["acme labs", "Umbrella"]),
        ("LastActivityDate IN (2024-05-14, 2024-05-16)", ["Acme", "Umbrella"]),
    ],
)
def test_date_fields(names: Callable[[str], list[str]], condition: str, expected: list[str]) -> None:
    assert names(f"WHERE {condition}") == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("CreatedDate = TODAY", ["acme labs"]),
        ("CreatedDate = YESTERDAY", ["Umbrella"]),
        ("CreatedDate = LAST_N_DAYS:7", ["Acme", "acme labs", "Umbrella"]),
        ("CreatedDate = LAST_MONTH", ["Initech_%"]),
        ("CreatedDate < THIS_YEAR", ["Globex"]),
        ("CreatedDate = LAST_YEAR", ["Globex"]),
        ("CreatedDate > 2024-05-14T22:00:00Z", ["acme labs", "Umbrella"]),
        ("CreatedDate > 2024-05-15T00:00:00+01:00", ["acme labs"]),
        ("CreatedDate = 2024-05-14T23:00:00Z", ["Umbrella"]),
        ("CreatedDate = 2024-05-14T19:00:00-04:00", ["Umbrella"]),
        ("CreatedDate >= 2024-04-01T00:00:00.000Z", ["Acme", "acme labs", "Initech_%", "Umbrella"]),
    ],
)
def test_datetime_fields(names: Callable[[str], list[str]], condition: str, expected: list[str]) -> None:
    assert names(f"WHERE {condition}") == expected


def test_the_clock_decides_relative_dates(rows: Callable[..., list[dict[str, Any]]]) -> None:
    from datetime import datetime

    later = datetime(2024, 5, 17, 12, 0)  # naive: read as UTC
    found = rows("SELECT Name FROM Account WHERE LastActivityDate = YESTERDAY", now=later)
    assert [row["Name"] for row in found] == ["Umbrella"]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("(Industry = 'Banking' OR Industry = null) AND NumberOfEmployees > 50", ["Acme", "Initech_%"]),
        ("NOT (Industry = 'Banking')", ["acme labs", "Globex", "Umbrella"]),
        ("NOT Industry = 'Banking'", ["acme labs", "Globex", "Umbrella"]),
        ("Industry = 'Retail' AND (NOT Name LIKE 'acme%')", ["Umbrella"]),
        ("Name = 'Acme' OR Name = 'Globex' OR Name = 'nobody'", ["Acme", "Globex"]),
        ("((Name = 'Acme'))", ["Acme"]),
    ],
)
def test_boolean_logic(names: Callable[[str], list[str]], condition: str, expected: list[str]) -> None:
    assert names(f"WHERE {condition}") == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Owner.Name = 'jo'", ["Acme", "Initech_%"]),
        ("Owner.Name = null", ["Globex"]),
        ("Owner.Name != 'Jo'", ["acme labs", "Globex", "Umbrella"]),
        ("owner.email LIKE 'AL@%'", ["acme labs", "Umbrella"]),
        ("a.Owner.Name = 'Al'", ["acme labs", "Umbrella"]),
        ("Account.Name = 'Globex'", ["Globex"]),
    ],
)
def test_parent_fields(names: Callable[[str], list[str]], condition: str, expected: list[str]) -> None:
    # "a" is the alias and "Account" the object's own name: both may qualify a path.
    assert [n for n in names(f"a WHERE {condition}")] == expected


def test_two_level_parent_paths(rows: Callable[..., list[dict[str, Any]]]) -> None:
    smith = rows("SELECT LastName FROM Contact WHERE Account.Owner.Name = 'Jo'")
    orphan = rows("SELECT LastName FROM Contact WHERE Account.Name = null")
    assert [r["LastName"] for r in smith] == ["Smith"]
    assert [r["LastName"] for r in orphan] == ["Orphan"]


SEMI_JOINS = [
    ("Account WHERE Id IN (SELECT AccountId FROM Contact)", ["Acme", "Umbrella"]),
    ("Account WHERE Id NOT IN (SELECT AccountId FROM Contact)", ["acme labs", "Globex", "Initech_%"]),
    ("Account WHERE Id IN (SELECT AccountId FROM Contact WHERE LastName = 'smith')", ["Acme"]),
    (
        "Account WHERE OwnerId IN (SELECT Id FROM User WHERE Name = 'Al') AND Industry = 'retail'",
        ["acme labs", "Umbrella"],
    ),
    ("Contact WHERE AccountId IN (SELECT Id FROM Account WHERE Industry = 'Retail')", ["Jones"]),
    ("Contact WHERE AccountId NOT IN (SELECT Id FROM Account WHERE Industry = 'Retail')", ["Smith"]),
]


@pytest.mark.parametrize(("tail", "expected"), SEMI_JOINS)
def test_semi_joins(rows: Callable[..., list[dict[str, Any]]], tail: str, expected: list[str]) -> None:
    column = "Name" if tail.startswith("Account") else "LastName"
    assert [row[column] for row in rows(f"SELECT {column} FROM {tail}")] == expected


def test_query_all_includes_deleted_records(names: Callable[..., list[str]], rows: Callable[..., Any]) -> None:
    assert names("WHERE Industry = 'Banking'") == ["Acme", "Initech_%"]
    found = rows("SELECT Name FROM Account WHERE Industry = 'Banking'", include_deleted=True)
    assert [row["Name"] for row in found] == ["Acme", "Initech_%", "Deleted Co"]


def framed_parts(err: SoqlError) -> tuple[str, str, str]:
    _, _, caret, position, explanation = err.message.split("\n")
    return caret, position, explanation


@pytest.mark.parametrize(
    ("condition", "field", "expected_type"),
    [
        ("CreatedDate = 2024-05-15", "CreatedDate", "dateTime"),
        ("LastActivityDate = 2024-05-15T00:00:00Z", "LastActivityDate", "date"),
        ("LastActivityDate = '2024-05-15'", "LastActivityDate", "date"),
        ("NumberOfEmployees = '5'", "NumberOfEmployees", "integer"),
        ("AnnualRevenue IN (1, '5')", "AnnualRevenue", "double"),
        ("IsActive__c = 'true'", "IsActive__c", "boolean"),
        ("Name = 5", "Name", "string"),
        ("industry = true", "Industry", "string"),
        ("OwnerId = TODAY", "OwnerId", "id"),
    ],
)
def test_literal_must_suit_the_field(
    error: Callable[[str], SoqlError], condition: str, field: str, expected_type: str
) -> None:
    quotes = "should be enclosed" if expected_type in ("string", "id") else "should not be enclosed"
    explanation = (
        f"value of filter criterion for field '{field}' must be of type {expected_type} and {quotes} in quotes"
    )
    err = error(f"SELECT Id FROM Account WHERE {condition}")
    assert err.error_code == "INVALID_FIELD"
    assert framed_parts(err) == (" " * 29 + "^", "ERROR at Row:1:Column:30", explanation)


@pytest.mark.parametrize(
    ("condition", "code", "explanation"),
    [
        ("Name LIKE 5", "INVALID_FIELD", None),
        ("Id LIKE '001%'", "INVALID_QUERY_FILTER_OPERATOR", "invalid operator on id field"),
        ("Tags__c LIKE 'A%'", "INVALID_QUERY_FILTER_OPERATOR", "invalid operator on multipicklist field"),
        ("NumberOfEmployees LIKE '5'", "INVALID_QUERY_FILTER_OPERATOR", "invalid operator on int field"),
        ("Name INCLUDES ('x')", "INVALID_QUERY_FILTER_OPERATOR", "invalid operator on string field"),
        ("IsActive__c > true", "INVALID_QUERY_FILTER_OPERATOR", "invalid operator on boolean field"),
        ("Description = 'x'", "INVALID_FIELD", "field 'Description' can not be filtered in a query call"),
    ],
)
def test_operator_must_suit_the_field(
    error: Callable[[str], SoqlError], condition: str, code: str, explanation: str | None
) -> None:
    err = error(f"SELECT Id FROM Account WHERE {condition}")
    assert err.error_code == code
    assert framed_parts(err)[1] == "ERROR at Row:1:Column:30"
    if explanation is not None:
        assert framed_parts(err)[2] == explanation


@pytest.mark.parametrize("literal", ["'abc'", "'001Xq00000000001'", "'001Xq000000000!AAA'", "''"])
def test_malformed_ids(error: Callable[[str], SoqlError], literal: str) -> None:
    err = error(f"SELECT Id FROM Account WHERE Id IN ('001Xq0000000001', {literal})")
    assert err.error_code == "INVALID_QUERY_FILTER_OPERATOR"
    _, position, explanation = framed_parts(err)
    column = len("SELECT Id FROM Account WHERE Id IN ('001Xq0000000001', ") + 1
    assert position == f"ERROR at Row:1:Column:{column}"
    assert explanation == f"invalid ID field: {literal[1:-1]}"


def test_unknown_field_in_where(error: Callable[[str], SoqlError]) -> None:
    err = error("SELECT Id FROM Account WHERE Nme = 'x'")
    assert err.error_code == "INVALID_FIELD"
    assert err.message.startswith(
        "\nSELECT Id FROM Account WHERE Nme = 'x'\n" + " " * 29 + "^\nERROR at Row:1:Column:30\n"
    )
    assert "No such column 'Nme' on entity 'Account'." in err.message


def test_semi_join_needs_id_fields(error: Callable[[str], SoqlError]) -> None:
    outer = error("SELECT Id FROM Account WHERE Name IN (SELECT AccountId FROM Contact)")
    inner = error("SELECT Id FROM Account WHERE Id IN (SELECT LastName FROM Contact)")
    assert outer.error_code == inner.error_code == "MALFORMED_QUERY"
    assert "Column:30" in outer.message and "Column:44" in inner.message

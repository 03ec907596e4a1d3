"""Parsing: the syntax tree, the platform's grammar rules, and the Row/Column framing of syntax errors."""

from __future__ import annotations

import pytest

from connectors.salesforce.emulator.soql import SoqlError, parse
from connectors.salesforce.emulator.soql.ast import (
    Aggregate,
    And,
    Comparison,
    FieldRef,
    FieldsFunction,
    Not,
    NullValue,
    Or,
    OrderItem,
    RelativeDate,
    SemiJoin,
    StringValue,
)


def parse_error(text: str) -> SoqlError:
    with pytest.raises(SoqlError) as caught:
        parse(text)
    return caught.value


def test_full_query_tree() -> None:
    text = (
        "select Id, a.Owner.Name from Account a where (Name = 'x' or Name like 'y%') and Industry in ('A', null) "
        "order by Name desc nulls first, Id limit 5 offset 3"
    )
    query = parse(text)
    assert query.object_name == "Account" and query.alias == "a"
    assert [item.expression for item in query.select] == [FieldRef(("Id",), 7), FieldRef(("a", "Owner", "Name"), 11)]
    where = query.where
    assert isinstance(where, And) and isinstance(where.operands[0], Or)
    membership = where.operands[1]
    assert isinstance(membership, Comparison) and membership.operator == "IN"
    assert isinstance(membership.values[0], StringValue) and isinstance(membership.values[1], NullValue)
    like = where.operands[0].operands[1]
    assert isinstance(like, Comparison) and like.operator == "LIKE"
    assert query.order_by == (
        OrderItem(FieldRef(("Name",), text.index("Name desc")), True, True),
        OrderItem(FieldRef(("Id",), text.index("Id limit")), False, None),
    )
    assert (query.limit, query.offset) == (5, 3)


def test_not_equal_spellings_are_the_same_operator() -> None:
    first = parse("SELECT Id FROM Account WHERE Name <> 'x'").where
    second = parse("SELECT Id FROM Account WHERE Name != 'x'").where
    assert isinstance(first, Comparison) and isinstance(second, Comparison)
    assert first.operator == second.operator == "!="


def test_relative_date_literals() -> None:
    where = parse("SELECT Id FROM Account WHERE CreatedDate = last_n_days : 7 AND LastActivityDate < TODAY").where
    assert isinstance(where, And)
    first, second = where.operands
    assert isinstance(first, Comparison) and first.values[0] == RelativeDate("LAST_N_DAYS", 7, first.values[0].pos)
    assert isinstance(second, Comparison) and isinstance(second.values[0], RelativeDate)
    assert second.values[0].n is None


def test_semi_join_and_not() -> None:
    query = parse("SELECT Id FROM Account WHERE NOT (Id IN (SELECT AccountId FROM Contact WHERE LastName = 'Smith'))")
    assert isinstance(query.where, Not)
    inner = query.where.operand
    assert isinstance(inner, SemiJoin) and not inner.negated
    assert inner.query.object_name == "Contact" and inner.query.text == query.text


def test_aggregates_aliases_and_fields_function() -> None:
    query = parse("SELECT Industry ind, COUNT(Id), MAX(CreatedDate) latest FROM Account GROUP BY Industry")
    assert [item.alias for item in query.select] == ["ind", None, "latest"]
    assert isinstance(query.select[1].expression, Aggregate) and query.is_aggregate
    fields = parse("SELECT FIELDS(STANDARD) FROM Account").select[0].expression
    assert fields == FieldsFunction("STANDARD", 7)


def test_count_query() -> None:
    query = parse("SELECT count() FROM Account LIMIT 3")
    assert query.is_count and not query.is_aggregate and query.limit == 3


@pytest.mark.parametrize(
    ("text", "token", "column"),
    [
        ("SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'", "OR", 56),
        ("SELECT Id FROM Account WHERE Name = 'a' OR Name = 'b' AND Name = 'c'", "AND", 55),
        ("SELECT Id FROM Account WHERE Name = 'a' AND NOT Name = 'b'", "NOT", 45),
        ("SELECT Id FROM Account WHERE NOT Name = 'a' AND Name = 'b'", "AND", 45),
        ("SELECT Id FROM Account WHERE", "<EOF>", 29),
        ("SELECT Id, FROM Account", "FROM", 12),
        ("SELECT FROM Account", "FROM", 8),
        ("SELECT Id FROM Account OFFSET 5 LIMIT 1", "LIMIT", 33),
        ("SELECT Id FROM Account WHERE Name = 'a' ORDER BY Name WHERE", "WHERE", 55),
        ("SELECT Id FROM Account WHERE Name IS NULL", "IS", 35),
        ("SELECT Id FROM Account WHERE Industry IN ()", ")", 43),
        ("SELECT Id FROM Account WHERE Name = Acme", "Acme", 37),
        ("SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS", "<EOF>", 55),
        ("SELECT Id FROM Account LIMIT -1", "-1", 30),
        ("SELECT Id FROM Account LIMIT 1.5", "1.5", 30),
        ("SELECT COUNT(), Name FROM Account", ",", 15),
        ("SELECT Name, COUNT() FROM Account", ")", 20),
        ("SELECT Name n FROM Account", "n", 13),
        ("SELECT toLabel(Industry) FROM Account", "(", 15),
        ("SELECT Id FROM Account WHERE Id = :accountId", ":", 35),
    ],
)
def test_syntax_errors_point_at_the_token(text: str, token: str, column: int) -> None:
    err = parse_error(text)
    assert err.error_code == "MALFORMED_QUERY"
    line, caret, position, explanation = err.message.split("\n")[1:]
    assert line == text
    assert caret == " " * (column - 1) + "^"
    assert position == f"ERROR at Row:1:Column:{column}"
    assert explanation == f"unexpected token: '{token}'"


def test_parenthesized_mixing_is_fine() -> None:
    where = parse("SELECT Id FROM Account WHERE (Name = 'a' AND Name = 'b') OR (NOT Name = 'c')").where
    assert isinstance(where, Or) and isinstance(where.operands[1], Not)


def test_error_rows_and_columns_on_a_multi_line_query() -> None:
    err = parse_error("SELECT Id\nFROM Account\nWHERE Name = 'a'\n  AND Name = 'b' OR Name = 'c'")
    assert err.message == (
        "\n  AND Name = 'b' OR Name = 'c'\n                 ^\nERROR at Row:4:Column:18\nunexpected token: 'OR'"
    )


def test_offset_above_2000() -> None:
    err = parse_error("SELECT Id FROM Account LIMIT 10 OFFSET 2001")
    assert (err.error_code, err.message) == ("NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000")
    assert parse("SELECT Id FROM Account OFFSET 2000").offset == 2000


def test_fields_all_needs_a_limit_of_at_most_200() -> None:
    for text in ("SELECT FIELDS(ALL) FROM Account", "SELECT FIELDS(CUSTOM) FROM Account LIMIT 201"):
        err = parse_error(text)
        assert err.error_code == "MALFORMED_QUERY"
        assert err.message == "The SOQL FIELDS function must have a LIMIT of at most 200"
    assert parse("SELECT FIELDS(ALL) FROM Account LIMIT 200").limit == 200


def test_aggregate_without_group_by_cannot_have_a_limit() -> None:
    err = parse_error("SELECT MAX(CreatedDate) FROM Account LIMIT 1")
    assert err.error_code == "MALFORMED_QUERY"
    assert err.message.endswith("Non-grouped query that uses overall aggregate functions cannot also use LIMIT")
    assert parse("SELECT Name, MAX(CreatedDate) FROM Account GROUP BY Name LIMIT 5").limit == 5


def test_count_with_group_by_is_rejected() -> None:
    err = parse_error("SELECT COUNT() FROM Account GROUP BY Industry")
    assert err.error_code == "MALFORMED_QUERY" and "COUNT()" in err.message


def test_child_subqueries_are_rejected() -> None:
    err = parse_error("SELECT Id, (SELECT Id FROM Contacts) FROM Account")
    assert err.error_code == "MALFORMED_QUERY" and "ERROR at Row:1:Column:12" in err.message


def test_nested_semi_joins_are_rejected() -> None:
    err = parse_error(
        "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact WHERE Id IN (SELECT Id FROM Contact))"
    )
    assert err.error_code == "MALFORMED_QUERY"
    assert err.message.endswith("Nesting of semi join sub-selects is not supported")


def test_duplicate_alias() -> None:
    err = parse_error("SELECT COUNT(Id) c, MAX(Name) c FROM Account GROUP BY Industry")
    assert err.error_code == "MALFORMED_QUERY" and err.message.endswith("duplicate alias: c")


def test_empty_query() -> None:
    err = parse_error("   ")
    assert (err.error_code, err.message) == ("MALFORMED_QUERY", "SOQL statements cannot be empty or null")


def test_keywords_are_case_insensitive() -> None:
    query = parse("sElEcT Id FrOm Account WhErE Name LiKe 'a%' OrDeR By Name AsC NuLlS LaSt LiMiT 1")
    assert query.order_by[0].nulls_first is False and query.limit == 1

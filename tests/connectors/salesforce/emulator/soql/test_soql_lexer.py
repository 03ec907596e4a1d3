"""Lexing: string escapes (incl. unicode and invalid ones), LIKE escapes, numbers, date and datetime literals."""

from __future__ import annotations

import re

import pytest

from connectors.salesforce.emulator.soql import SoqlError
from connectors.salesforce.emulator.soql.lexer import tokenize


def string_token(literal: str) -> tuple[str, str]:
    tokens = tokenize(literal)
    assert [t.kind for t in tokens] == ["string", "eof"]
    return tokens[0].string, tokens[0].pattern


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        (r"'plain'", "plain"),
        (r"'a\nb\Nc'", "a\nb\nc"),
        (r"'a\rb\Rc'", "a\rb\rc"),
        (r"'a\tb\Tc'", "a\tb\tc"),
        (r"'a\bb\Bc'", "a\bb\bc"),
        (r"'a\fb\Fc'", "a\fb\fc"),
        (r"'say \"hi\"'", 'say "hi"'),
        (r"'Bob\'s'", "Bob's"),
        (r"'back\\slash'", "back\\slash"),
        (r"'caf\u00e9 \u00C9'", "café É"),
        ("'multi\nline'", "multi\nline"),
        ("''", ""),
    ],
)
def test_string_escapes_decode(literal: str, value: str) -> None:
    assert string_token(literal)[0] == value


def test_like_escapes_stay_two_characters_outside_like_but_match_literally_in_the_pattern() -> None:
    value, pattern = string_token(r"'50\%\_off%'")
    assert value == r"50\%\_off%"
    assert re.fullmatch(pattern, "50%_off and more")
    assert not re.fullmatch(pattern, "50x_off")
    assert not re.fullmatch(pattern, "50%xoff")


def test_like_wildcards_in_pattern() -> None:
    _, pattern = string_token("'a_c%'")
    assert re.fullmatch(pattern, "abc") and re.fullmatch(pattern, "abcdef")
    assert not re.fullmatch(pattern, "ac")


def test_escaped_backslash_before_percent_keeps_the_wildcard() -> None:
    value, pattern = string_token(r"'a\\%'")
    assert value == "a\\%"
    assert re.fullmatch(pattern, "a\\anything")


@pytest.mark.parametrize("literal", [r"'bad\q'", r"'bad\x41'", r"'\u12'", r"'\u12G4'", "'trailing\\"])
def test_other_backslash_sequences_are_malformed(literal: str) -> None:
    with pytest.raises(SoqlError) as caught:
        tokenize(f"SELECT Id FROM Account WHERE Name = {literal}")
    assert caught.value.error_code == "MALFORMED_QUERY"


def test_invalid_escape_message_names_the_sequence() -> None:
    with pytest.raises(SoqlError) as caught:
        tokenize(r"SELECT Id FROM Account WHERE Name = 'a\qb'")
    assert caught.value.message == (
        "\nSELECT Id FROM Account WHERE Name = 'a\\qb'\n"
        "                                    ^\n"
        "ERROR at Row:1:Column:37\n"
        "Invalid string literal 'a\\qb'. Illegal character sequence '\\q' in string literal."
    )


def test_double_quotes_are_rejected_like_the_platform() -> None:
    with pytest.raises(SoqlError) as caught:
        tokenize('SELECT Id FROM Account WHERE Name = "x"')
    assert caught.value.error_code == "MALFORMED_QUERY"
    assert caught.value.message.endswith("ERROR at Row:1:Column:37\nline 1:37 no viable alternative at character '\"'")


def test_unterminated_string() -> None:
    with pytest.raises(SoqlError) as caught:
        tokenize("SELECT Id FROM Account WHERE Name = 'open")
    assert caught.value.error_code == "MALFORMED_QUERY"
    assert "ERROR at Row:1:Column:37" in caught.value.message


def test_numbers() -> None:
    tokens = tokenize("5 -3 2.50 +7")
    assert [(t.kind, t.number) for t in tokens[:-1]] == [("number", 5), ("number", -3), ("number", 2.5), ("number", 7)]
    assert isinstance(tokens[0].number, int) and isinstance(tokens[2].number, float)


def test_exponents_are_not_numbers() -> None:
    tokens = tokenize("1e5")
    assert [(t.kind, t.text) for t in tokens[:-1]] == [("number", "1"), ("ident", "e5")]


def test_dates_and_datetimes_become_wire_form() -> None:
    tokens = tokenize("2024-02-29 2024-05-15T10:00:00Z 2024-05-15T10:00:00+02:00 2024-05-15T10:00:00.5-01:30")
    assert [(t.kind, t.string) for t in tokens[:-1]] == [
        ("date", "2024-02-29"),
        ("datetime", "2024-05-15T10:00:00.000+0000"),
        ("datetime", "2024-05-15T08:00:00.000+0000"),
        ("datetime", "2024-05-15T11:30:00.500+0000"),
    ]


def test_wire_form_datetime_is_accepted_back() -> None:
    assert tokenize("2024-05-15T10:00:00.000+0000")[0].string == "2024-05-15T10:00:00.000+0000"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2023-02-29", "Invalid date: 2023-02-29"),
        ("2024-13-01", "Invalid date: 2024-13-01"),
        ("2024-05-15T10:00:00", "Invalid datetime: 2024-05-15T10:00:00"),
        ("2024-05-15T25:00:00Z", "Invalid datetime: 2024-05-15T25:00:00Z"),
    ],
)
def test_impossible_dates_are_malformed(text: str, message: str) -> None:
    with pytest.raises(SoqlError) as caught:
        tokenize(text)
    assert caught.value.error_code == "MALFORMED_QUERY"
    assert caught.value.message.endswith(message)


def test_identifiers_keep_their_dots_and_case() -> None:
    tokens = tokenize("a.Owner.Name, COUNT(Id)")
    assert [t.text for t in tokens[:-1]] == ["a.Owner.Name", ",", "COUNT", "(", "Id", ")"]
    assert tokens[-1].kind == "eof"

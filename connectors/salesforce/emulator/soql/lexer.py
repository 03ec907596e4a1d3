"""The SOQL lexer: query text to tokens, with string escapes decoded the way the platform documents them.

String literals are single-quoted; the escapes are ``\\n \\N \\r \\R \\t \\T \\b \\B \\f \\F \\" \\' \\\\``,
``\\uXXXX``, and ``\\%`` ``\\_`` which only mean something to LIKE. Any other backslash is an error (documented: "If
you use a backslash character in any other context, an error occurs"). Each string token carries both its value and
a LIKE regex so the parser never has to re-read the escapes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .errors import SoqlError, bad_character, malformed
from .literals import normalize_date, normalize_datetime

TokenKind = Literal["ident", "string", "number", "date", "datetime", "op", "eof"]


@dataclass(frozen=True)
class Token:
    """One token: `text` as written and its character offset `pos`; literal tokens carry their decoded value."""

    kind: TokenKind
    text: str
    pos: int
    number: int | float = 0
    #: decoded string value; for date/datetime tokens the wire form ("YYYY-MM-DD", UTC "…T…+0000")
    string: str = ""
    #: for string tokens, a regex (to fullmatch) equivalent to the literal used as a LIKE pattern
    pattern: str = ""


_WORD = r"[A-Za-z_][A-Za-z0-9_]*"
_TOKEN = re.compile(
    rf"""
    (?P<ws>\s+)
    |(?P<datetime>\d{{4}}-\d{{2}}-\d{{2}}T[0-9:.]*(?:Z|[+-][0-9:]*)?)
    |(?P<date>\d{{4}}-\d{{2}}-\d{{2}})
    |(?P<number>[+-]?\d+(?:\.\d+)?)
    |(?P<ident>{_WORD}(?:\.{_WORD})*)
    |(?P<op>!=|<>|<=|>=|[=<>(),:])
    |(?P<quote>')
    """,
    re.VERBOSE,
)

# Escapes that stand for one character (the docs pair each lowercase letter with its uppercase twin). The docs call
# \b "bell"; the platform is Java underneath, where \b is backspace (U+0008), which is what we produce.
_SIMPLE_ESCAPES = {
    "n": "\n",
    "N": "\n",
    "r": "\r",
    "R": "\r",
    "t": "\t",
    "T": "\t",
    "b": "\b",
    "B": "\b",
    "f": "\f",
    "F": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_LIKE_WILDCARDS = {"%": ".*", "_": "."}


def tokenize(text: str) -> list[Token]:
    """All tokens of `text`, ending with an ``eof`` token; raises SoqlError (MALFORMED_QUERY) on a lexical error."""
    tokens: list[Token] = []
    pos = 0
    end = len(text)
    while pos < end:
        match = _TOKEN.match(text, pos)
        if match is None:
            raise bad_character(text, pos)
        kind = match.lastgroup
        lexeme = match.group()
        if kind == "quote":
            token = _string(text, pos)
            tokens.append(token)
            pos += len(token.text)
            continue
        if kind == "number":
            number: int | float = float(lexeme) if "." in lexeme else int(lexeme)
            tokens.append(Token("number", lexeme, pos, number=number))
        elif kind == "date":
            tokens.append(Token("date", lexeme, pos, string=_checked(normalize_date, text, pos, lexeme, "date")))
        elif kind == "datetime":
            wire = _checked(normalize_datetime, text, pos, lexeme, "datetime")
            tokens.append(Token("datetime", lexeme, pos, string=wire))
        elif kind in ("ident", "op"):
            tokens.append(Token("ident" if kind == "ident" else "op", lexeme, pos))
        pos = match.end()
    tokens.append(Token("eof", "<EOF>", end))
    return tokens


def _checked(normalize: Callable[[str], str | None], text: str, pos: int, lexeme: str, what: str) -> str:
    """`normalize(lexeme)`, turning a malformed or impossible date into the platform-style parse error."""
    result = normalize(lexeme)
    if result is None:
        # UNCONFIRMED wording: the platform's exact text for an impossible date was not found; this mirrors its
        # "Invalid date: …" diagnostics seen in other emulators.
        raise malformed(text, pos, f"Invalid {what}: {lexeme}")
    return result


def _string(text: str, start: int) -> Token:
    """The string literal whose opening quote is at `start`."""
    value: list[str] = []
    pattern: list[str] = []
    i = start + 1
    end = len(text)
    while i < end:
        ch = text[i]
        if ch == "'":
            raw = text[start : i + 1]
            return Token("string", raw, start, string="".join(value), pattern="".join(pattern))
        if ch != "\\":
            value.append(ch)
            pattern.append(_LIKE_WILDCARDS.get(ch) or re.escape(ch))
            i += 1
            continue
        escape = text[i + 1 : i + 2]
        if escape in _SIMPLE_ESCAPES:
            decoded = _SIMPLE_ESCAPES[escape]
            value.append(decoded)
            pattern.append(re.escape(decoded))
            i += 2
        elif escape in _LIKE_WILDCARDS:
            # LIKE reads \% and \_ as a literal % and _. Elsewhere the docs give them no meaning; we keep both
            # characters (the tokenizer passes them through and only LIKE interprets them).
            value.append("\\" + escape)
            pattern.append(re.escape(escape))
            i += 2
        elif escape == "u" and _HEX4.fullmatch(text, i + 2, i + 6):
            decoded = chr(int(text[i + 2 : i + 6], 16))
            value.append(decoded)
            pattern.append(re.escape(decoded))
            i += 6
        else:
            raise _bad_escape(text, start, i)
    # UNCONFIRMED wording, in the style of the platform's lexer messages.
    row = text.count("\n", 0, end) + 1
    column = end - (text.rfind("\n", 0, end) + 1) + 1
    raise malformed(text, start, f"line {row}:{column} mismatched character '<EOF>' expecting '''")


def _bad_escape(text: str, start: int, backslash: int) -> SoqlError:
    """The error for an undefined backslash sequence inside the literal starting at `start`."""
    closing = text.find("'", backslash + 2)
    literal = text[start : closing + 1] if closing >= 0 else text[start:]
    sequence = text[backslash : backslash + 2]
    # UNCONFIRMED wording: taken from the platform's QueryException text for the same mistake in Apex.
    return malformed(
        text, start, f"Invalid string literal {literal}. Illegal character sequence '{sequence}' in string literal."
    )

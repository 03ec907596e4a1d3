"""The statements of a client's Query message, and the few a server answers without running them.

A simple-protocol Query may hold several statements (the DuckDB extension's catalog load sends six at once); they
are split on semicolons outside quotes and comments. Transaction control, `DISCARD ALL` and the session settings
drivers send on connect are answered here; `COPY (query) TO STDOUT` is taken apart into its query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TRANSACTION = re.compile(
    r"(?P<verb>begin|start\s+transaction|commit|end|rollback|abort)\b(?:\s+(?:work|transaction)\b)?"
    r"(?P<rest>.*)",
    re.IGNORECASE | re.DOTALL,
)
_DISCARD = re.compile(r"discard\s+all", re.IGNORECASE)
#: Session settings a driver may send on connect that change nothing here (results are always UTF-8 and ISO).
_HARMLESS_SET = re.compile(
    r"set\s+(?:session\s+)?(?:application_name|extra_float_digits|client_encoding\s*(?:=|to)\s*'?utf-?8'?\s*$)",
    re.IGNORECASE,
)
_COPY = re.compile(
    r"copy\s*\((?P<query>.*)\)\s*to\s+stdout\s*(?:with\s*)?(?:\((?P<options>[^()]*)\))?", re.IGNORECASE | re.DOTALL
)
_BINARY = re.compile(r"""format\s*"?binary"?""", re.IGNORECASE)


def split(sql: str) -> list[str]:
    """The statements of `sql`, split on semicolons outside quotes and comments, without the empty ones."""
    statements, start, i, n = [], 0, 0, len(sql)
    while i < n:
        char = sql[i]
        if char in "'\"":
            end = i + 1
            while end < n and not (sql[end] == char and sql[end + 1 : end + 2] != char):
                end += 2 if sql[end] == char else 1
            i = end + 1
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif sql.startswith("/*", i):
            close = sql.find("*/", i + 2)
            i = n if close < 0 else close + 2
        elif char == ";":
            statements.append(sql[start:i])
            start = i = i + 1
        else:
            i += 1
    statements.append(sql[start:])
    return [s.strip() for s in statements if _meaningful(s)]


def _meaningful(statement: str) -> bool:
    without = re.sub(r"--[^\n]*|/\*.*?\*/", "", statement, flags=re.DOTALL)
    return bool(without.strip())


@dataclass(frozen=True)
class Transaction:
    """BEGIN, COMMIT or ROLLBACK, as the command tag names them."""

    tag: str


def transaction(statement: str) -> Transaction | None:
    found = _TRANSACTION.fullmatch(statement.strip())
    if found is None:
        return None
    verb = found.group("verb").split()[0].upper()
    if verb != "BEGIN" and verb != "START" and found.group("rest").strip():
        return None  # COMMIT PREPARED, ROLLBACK TO SAVEPOINT: not supported, so not answered here
    return Transaction({"START": "BEGIN", "END": "COMMIT", "ABORT": "ROLLBACK"}.get(verb, verb))


def discard(statement: str) -> bool:
    return _DISCARD.fullmatch(statement.strip()) is not None


def harmless_set(statement: str) -> bool:
    return _HARMLESS_SET.match(statement.strip()) is not None


@dataclass(frozen=True)
class Copy:
    query: str
    binary: bool


def copy_to_stdout(statement: str) -> Copy | None:
    found = _COPY.fullmatch(statement.strip())
    if found is None:
        return None
    options = found.group("options") or ""
    return Copy(found.group("query"), _BINARY.search(options) is not None)

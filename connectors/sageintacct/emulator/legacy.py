"""readByQuery's query string: `STATUS = 'T' AND (TOTALDUE > 100 OR NAME like 'B%')`, parsed into a record test.

The grammar of the vendor's query documentation (api-protocols.md §1.5): comparisons `= != <> < <= > >=`,
`like`/`not like` with `%` and `_`, `in (…)`/`not in (…)`, `IS NULL`/`IS NOT NULL`, `AND`, `OR`, a `NOT` prefix
and parentheses; string operands in single quotes with `\\'` for a quote; booleans as 'T'/'F'. Spaces around
operators are required, so `A='x'` is an error, as on the real gateway.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .filters import BadQuery, Record, Test, like_pattern
from .schema import ObjectDef
from .values import BadValue, parse

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:\\.|[^'\\])*')|(?P<op><=|>=|!=|<>|=|<|>)|(?P<paren>[(),])|(?P<word>[^\s(),']+))"
)
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise BadQuery(f"can't parse the query near {text[position : position + 20]!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
        # Operators need spaces around them: `A='x'` is one word, which is not a field.
    return found


class _Parser:
    def __init__(self, obj: ObjectDef, text: str) -> None:
        self.obj = obj
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def word(self, *words: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "word" and token[1].upper() in words:
            self.at += 1
            return True
        return False

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise BadQuery("the query ends too early")
        self.at += 1
        return token

    def parse(self) -> Test:
        test = self.disjunction()
        if self.peek() is not None:
            raise BadQuery(f"unexpected {self.peek()[1]!r} in the query")  # type: ignore[index]
        return test

    def disjunction(self) -> Test:
        parts = [self.conjunction()]
        while self.word("OR"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def conjunction(self) -> Test:
        parts = [self.negation()]
        while self.word("AND"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def negation(self) -> Test:
        if self.word("NOT"):
            inner = self.negation()
            return lambda r: not inner(r)
        if self.peek() == ("paren", "("):
            self.at += 1
            inner = self.disjunction()
            if self.take() != ("paren", ")"):
                raise BadQuery("a parenthesis is not closed")
            return inner
        return self.comparison()

    def value(self, field: Any) -> Any:
        kind, text = self.take()
        if kind == "string":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        elif kind != "word":
            raise BadQuery(f"expected a value, not {text!r}")
        try:
            return parse(field, text)
        except BadValue as error:
            raise BadQuery(str(error)) from None

    def comparison(self) -> Test:
        kind, name = self.take()
        if kind != "word":
            raise BadQuery(f"expected a field name, not {name!r}")
        field = self.obj.by_id.get(name.upper())
        if field is None:
            raise BadQuery(f"Invalid field {name!r} for object {self.obj.name}")
        key = field.id
        if self.word("IS"):
            negated = self.word("NOT")
            if not self.word("NULL"):
                raise BadQuery("IS must be followed by NULL or NOT NULL")
            return lambda r: (r[key] is None) != negated
        negated = self.word("NOT")
        if self.word("LIKE"):
            kind, text = self.take()
            if kind != "string":
                raise BadQuery("like takes a quoted pattern")
            pattern = like_pattern(re.sub(r"\\(.)", r"\1", text[1:-1]), False)
            return lambda r: r[key] is not None and bool(pattern.fullmatch(str(r[key]))) != negated
        if self.word("IN"):
            if self.take() != ("paren", "("):
                raise BadQuery("in takes a parenthesised list")
            members = {self.value(field)}
            while self.peek() == ("paren", ","):
                self.at += 1
                members.add(self.value(field))
            if self.take() != ("paren", ")"):
                raise BadQuery("the in list is not closed")
            return lambda r: r[key] is not None and (r[key] in members) != negated
        if negated:
            raise BadQuery("NOT must be followed by LIKE or IN here")
        kind, op = self.take()
        if kind != "op":
            raise BadQuery(f"expected an operator after {name}, not {op!r} (operators need spaces around them)")
        compare: Callable[[Any, Any], bool] = _OPS[op]
        value = self.value(field)
        return lambda r: r[key] is not None and value is not None and bool(compare(r[key], value))


def compile_query(obj: ObjectDef, text: str | None) -> Test:
    """The test for a readByQuery query string; an empty query selects every record."""
    if text is None or not text.strip():
        return lambda r: True
    return _Parser(obj, text).parse()


__all__ = ["Record", "compile_query"]

"""OData `$filter` as Exact Online evaluates it: a parser for the v2/v3 expression syntax and an evaluator.

Syntax: `eq ne gt ge lt le`, `and or not`, parentheses, the functions `trim tolower toupper substringof
startswith endswith`, and Exact's literal forms: `'text'` (a quote doubled inside), `guid'…'`,
`datetime'2024-01-01'` / `datetime'2024-05-01T10:00:00'`, `123`, `123L` (Int64), `1.5`, `1.5d`, `1.5M`, `true`,
`false`, `null`. A literal of the wrong type for its property is refused, as WCF Data Services refuses it
("Operator 'eq' incompatible with operand types …").

Semantics — Exact runs on SQL Server behind the .NET OData stack, which is what these rules mirror:
- Text compares under a case-insensitive collation that ignores trailing spaces (`Name eq 'acme '` matches
  "ACME"); leading spaces count. Guids compare case-insensitively and order as SQL Server orders them. (The
  collation is UNCONFIRMED in Exact's docs; it is SQL Server's default and what users report.)
- Nulls follow C# semantics (LINQ to Entities' default): `x eq null` is "x is null", `x ne 'a'` is true for a
  null x, an ordering comparison with null is false, and there is no unknown: `not` simply negates. (UNCONFIRMED:
  the .NET default, not stated by Exact.)
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.exactonline.entities import Entity

from .data import sql_guid_order


class BadFilter(ValueError):
    """The `$filter` text is not a valid expression for the entity."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<typed>(?:guid|datetime|datetimeoffset|time|X|binary)'(?:[^']|'')*')
      | (?P<string>'(?:[^']|'')*')
      | (?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?[LlDdMmFf]?)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z_][A-Za-z0-9_./]*)
    )""",
    re.VERBOSE,
)

_COMPARE = {"eq", "ne", "gt", "ge", "lt", "le"}
_NUMERIC = {"Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Byte", "Edm.Double", "Edm.Decimal", "Edm.Single"}


@dataclass(frozen=True)
class _Typed:
    """A value with its Edm type (None: the null literal)."""

    edm: str | None
    value: Any


Record = Mapping[str, Any]
Node = Callable[[Record], _Typed]


def _epoch_ms(text: str) -> float:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise BadFilter(f"Unrecognized 'Edm.DateTime' literal 'datetime'{text}''") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return (moment - datetime.datetime(1970, 1, 1)).total_seconds() * 1000


class _Parser:
    def __init__(self, text: str, entity: Entity) -> None:
        self.entity = entity
        self.tokens: list[tuple[str, str, int]] = []
        position = 0
        while position < len(text):
            if text[position:].strip() == "":
                break
            found = _TOKEN.match(text, position)
            if found is None or found.end() == position:
                raise BadFilter(f"Syntax error at position {position} in '{text}'.")
            kind = found.lastgroup or ""
            self.tokens.append((kind, found.group(kind), found.start(kind)))
            position = found.end()
        self.at = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise BadFilter("Expression expected at the end of $filter.")
        self.at += 1
        return token

    def word(self, *words: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "word" and token[1] in words:
            self.at += 1
            return True
        return False

    def expect(self, text: str) -> None:
        _, value, position = self.take()
        if value != text:
            raise BadFilter(f"'{text}' expected at position {position}.")

    def parse(self) -> Node:
        node = self.disjunction()
        if self.peek() is not None:
            raise BadFilter(f"Syntax error at position {self.peek()[2]}.")  # type: ignore[index]
        return node

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.word("or"):
            left, right = node, self.conjunction()
            node = _logical(lambda a, b: a or b, left, right)
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while self.word("and"):
            left, right = node, self.negation()
            node = _logical(lambda a, b: a and b, left, right)
        return node

    def negation(self) -> Node:
        if self.word("not"):
            inner = self.negation()
            return lambda record: _Typed("Edm.Boolean", not _truth(inner(record)))
        return self.comparison()

    def comparison(self) -> Node:
        upcoming = self.peek()
        left_position = upcoming[2] if upcoming is not None else 0
        left, left_type = self.primary()
        token = self.peek()
        if token is None or token[0] != "word" or token[1] not in _COMPARE:
            return left
        op = self.take()[1]
        right, right_type = self.primary()
        _check_types(op, left_type, right_type, left_position)
        edm = left_type or right_type
        return lambda record: _Typed("Edm.Boolean", _compare(op, edm, left(record).value, right(record).value))

    def primary(self) -> tuple[Node, str | None]:
        kind, text, position = self.take()
        if text == "(":
            node = self.disjunction()
            self.expect(")")
            return node, "Edm.Boolean"
        if kind in ("string", "typed", "number"):
            value = _literal(kind, text)
            return (lambda record: value), value.edm
        if kind != "word":
            raise BadFilter(f"Syntax error at position {position}.")
        if text in ("true", "false"):
            constant = _Typed("Edm.Boolean", text == "true")
            return (lambda record: constant), "Edm.Boolean"
        if text == "null":
            return (lambda record: _Typed(None, None)), None
        nxt = self.peek()
        if nxt is not None and nxt[1] == "(":
            return self.function(text, position)
        prop = self.entity.property(text)
        if prop is None:
            raise BadFilter(f"No property '{text}' exists in type '{self.entity.model}' at position {position}.")
        if not prop.filterable:
            raise BadFilter(f"Filtering on property '{text}' is not supported.")
        edm = prop.edm
        return (lambda record: _Typed(edm, record.get(prop.name))), edm

    def function(self, name: str, position: int) -> tuple[Node, str | None]:
        self.expect("(")
        args = [self.primary()]
        while self.peek() is not None and self.peek()[1] == ",":  # type: ignore[index]
            self.take()
            args.append(self.primary())
        self.expect(")")
        text: dict[str, Callable[[str], str]] = {"trim": str.strip, "tolower": str.lower, "toupper": str.upper}
        if name in text and len(args) == 1:
            (arg, _), change = args[0], text[name]
            return (lambda r: _Typed("Edm.String", None if (v := arg(r).value) is None else change(v))), "Edm.String"
        tests: dict[str, Callable[[str, str], bool]] = {
            "substringof": lambda a, b: _fold(a) in _fold(b),
            "startswith": lambda a, b: _fold(a).startswith(_fold(b)),
            "endswith": lambda a, b: _fold(a).endswith(_fold(b)),
        }
        if name in tests and len(args) == 2:
            (first, _), (second, _) = args
            test = tests[name]

            def call(record: Record) -> _Typed:
                a, b = first(record).value, second(record).value
                return _Typed("Edm.Boolean", a is not None and b is not None and test(a, b))

            return call, "Edm.Boolean"
        raise BadFilter(f"Unknown function '{name}' at position {position}.")


def _logical(combine: Callable[[bool, bool], bool], left: Node, right: Node) -> Node:
    return lambda record: _Typed("Edm.Boolean", combine(_truth(left(record)), _truth(right(record))))


def _truth(value: _Typed) -> bool:
    return value.value is True


def _literal(kind: str, text: str) -> _Typed:
    if kind == "string":
        return _Typed("Edm.String", text[1:-1].replace("''", "'"))
    if kind == "number":
        suffix = text[-1].lower() if text[-1].isalpha() else ""
        body = text[:-1] if suffix else text
        if suffix == "l":
            return _Typed("Edm.Int64", int(body))
        if suffix in ("d", "f", "m") or "." in body or "e" in body.lower():
            return _Typed("Edm.Double", float(body))
        return _Typed("Edm.Int32", int(body))
    prefix, _, quoted = text.partition("'")
    inner = quoted[:-1].replace("''", "'")
    if prefix == "guid":
        try:
            return _Typed("Edm.Guid", str(uuid.UUID(inner)))
        except ValueError:
            raise BadFilter(f"Unrecognized 'Edm.Guid' literal 'guid'{inner}''.") from None
    if prefix == "datetime":
        return _Typed("Edm.DateTime", _epoch_ms(inner))
    raise BadFilter(f"Literals of the form {prefix}'…' are not supported.")


def _check_types(op: str, left: str | None, right: str | None, position: int) -> None:
    if left is None or right is None or left == right:
        return
    if left in _NUMERIC and right in _NUMERIC:
        return
    raise BadFilter(f"Operator '{op}' incompatible with operand types '{left}' and '{right}' at position {position}.")


def _fold(text: str) -> str:
    """Text as the case-insensitive collation compares it, trailing spaces ignored."""
    return text.rstrip(" ").casefold()


def _order_key(edm: str | None, value: Any) -> Any:
    if edm == "Edm.String":
        return _fold(value)
    if edm == "Edm.Guid":
        return sql_guid_order(value)
    return value


def _compare(op: str, edm: str | None, left: Any, right: Any) -> bool:
    if left is None or right is None:
        # C# null semantics: null equals only null, differs from everything else, and is never ordered.
        if op == "eq":
            return left is None and right is None
        if op == "ne":
            return not (left is None and right is None)
        return False
    a, b = _order_key(edm, left), _order_key(edm, right)
    outcome: bool = {
        "eq": a == b,
        "ne": a != b,
        "gt": a > b,
        "ge": a >= b,
        "lt": a < b,
        "le": a <= b,
    }[op]
    return outcome


def parse_filter(text: str, entity: Entity) -> Callable[[Record], bool]:
    """A test of records for `$filter=text` on `entity`, or `BadFilter` with the API's message."""
    node = _Parser(text, entity).parse()
    return lambda record: _truth(node(record))

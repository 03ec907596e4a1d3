"""WHERE and HAVING conditions compiled once into plain Python predicates, with the platform's typing and null rules.

Typing: a literal must suit the field (quoted text for text and Id fields, bare numbers, true/false, date literals
for date fields and datetime literals for datetime fields; both take relative literals such as TODAY), otherwise
INVALID_FIELD "value of filter criterion for field 'X' must be of type … and should (not) be enclosed in quotes"
(platform wording, seen in error logs). Id literals must be 15 or 18 letters/digits, otherwise
INVALID_QUERY_FILTER_OPERATOR "invalid ID field: …" (seen on the platform). Operators must suit the field:
LIKE only on text (the platform says "invalid operator on id field" and "… on multipicklist field"), INCLUDES and
EXCLUDES only on multi-select picklists. ``< <= > >=`` on booleans is rejected the same way: UNCONFIRMED, chosen
because an emulator that accepted it would hide a client pushing a filter the platform may refuse.

Nulls (the evidence is thin, so the choices are spelled out):

- ``f = null`` / ``f != null`` test for null. A boolean is never null: null reads as false (documented: "WHERE
  Test_c = null is equivalent to WHERE Test_c = false").
- ``f != 'x'`` (and ``!=`` with a date literal) is true where f is null. UNCONFIRMED: commonly reported of SOQL
  (null is an ordinary value here, unlike SQL) but not found in a primary source; for a client that re-applies
  its predicates locally this is the safe side, a superset of SQL's answer.
- ``f NOT IN (…)`` and EXCLUDES: NOT IN leaves null rows out (secondary source: "Null rows are excluded by
  default"); EXCLUDES keeps them, a null multi-select picklist holding none of the values.
- Every other comparison with a null field value is false, and ``<``/``>``/LIKE against the ``null`` literal match
  nothing.
- NOT is plain negation of its operand's result.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..model import FieldDef, Record
from .ast import (
    Aggregate,
    And,
    BooleanValue,
    Comparison,
    Condition,
    DateTimeValue,
    DateValue,
    FieldRef,
    Not,
    NullValue,
    NumberValue,
    Or,
    RelativeDate,
    SemiJoin,
    StringValue,
    Value,
)
from .errors import error_at
from .literals import canonical_id, date_literal_range
from .resolve import Getter
from .values import compare_key, kind_of, picks

Predicate = Callable[[Record], bool]


@dataclass(frozen=True)
class Operand:
    """The subject of a comparison: how to read it, the field (or a stand-in for an aggregate) and where it is."""

    getter: Getter
    field: FieldDef
    pos: int


_ACCEPTS: dict[str, tuple[type, ...]] = {
    "text": (StringValue,),
    "id": (StringValue,),
    "multi": (StringValue,),
    "number": (NumberValue,),
    "boolean": (BooleanValue,),
    "date": (DateValue, RelativeDate),
    "datetime": (DateTimeValue, RelativeDate),
}
_QUOTED = frozenset({"text", "id", "multi"})
_ORDERED = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class ConditionCompiler:
    """Compiles the conditions of one query; `operand` resolves a comparison's subject."""

    def __init__(
        self,
        text: str,
        operand: Callable[[FieldRef | Aggregate], Operand],
        today: date,
        semi_join: Callable[[SemiJoin], Predicate] | None = None,
    ) -> None:
        self.text = text
        self.operand = operand
        self.today = today
        self.semi_join = semi_join

    def compile(self, condition: Condition) -> Predicate:
        if isinstance(condition, And | Or):
            parts = [self.compile(c) for c in condition.operands]
            return _every(parts) if isinstance(condition, And) else _some(parts)
        if isinstance(condition, Not):
            inner = self.compile(condition.operand)
            return lambda record: not inner(record)
        if isinstance(condition, SemiJoin):
            if self.semi_join is None:
                raise AssertionError("the parser only allows semi-joins in a top-level WHERE")
            return self.semi_join(condition)
        return self.comparison(condition)

    def comparison(self, condition: Comparison) -> Predicate:
        subject = self.operand(condition.target)
        field, op = subject.field, condition.operator
        kind = kind_of(field)
        if not field.filterable or kind == "other":
            raise error_at(
                "INVALID_FIELD", self.text, subject.pos, f"field '{field.name}' can not be filtered in a query call"
            )
        if (
            (op == "LIKE" and kind != "text")
            or (op in ("INCLUDES", "EXCLUDES") and kind != "multi")
            or (op in _ORDERED and kind in ("boolean", "multi"))
        ):
            raise error_at(
                "INVALID_QUERY_FILTER_OPERATOR", self.text, subject.pos, f"invalid operator on {field.type} field"
            )
        for value in condition.values:
            if not isinstance(value, _ACCEPTS[kind] + (NullValue,)):
                raise self._type_error(field, kind, subject.pos)
        get = _as_boolean(subject.getter) if kind == "boolean" else subject.getter
        norm = compare_key(field)
        keyed = get if norm is None else _keyed(get, norm)
        if op == "LIKE":
            return self._like(get, condition.values[0], field)
        if op in ("INCLUDES", "EXCLUDES"):
            wanted = [picks(v.value) for v in condition.values if isinstance(v, StringValue)]
            includes = _includes(keyed, wanted)
            if op == "INCLUDES":
                return lambda record: includes(record) is True
            return lambda record: includes(record) is not True
        if op in ("IN", "NOT_IN"):
            return self._membership(keyed, get, condition.values, kind, norm, op == "NOT_IN")
        value = condition.values[0]
        if isinstance(value, RelativeDate):
            return self._in_range(get, value, field, op)
        literal = self._literal(value, kind, norm)
        if literal is None:
            if op in _ORDERED:
                return lambda record: False
            if op == "=":
                return lambda record: keyed(record) is None
            return lambda record: keyed(record) is not None
        if op == "=":
            return lambda record: keyed(record) == literal
        if op == "!=":
            return lambda record: keyed(record) != literal  # null != 'x' is true (see module notes)
        compare = _ORDERED[op]

        def ordered(record: Record) -> bool:
            current = keyed(record)
            return current is not None and compare(current, literal)

        return ordered

    def _type_error(self, field: FieldDef, kind: str, pos: int) -> Exception:
        word = {"text": "string", "multi": "string", "id": "id", "datetime": "dateTime"}.get(kind, kind)
        if kind == "number":
            word = "integer" if field.type == "int" else "double"
        quotes = "should be enclosed in quotes" if kind in _QUOTED else "should not be enclosed in quotes"
        return error_at(
            "INVALID_FIELD",
            self.text,
            pos,
            f"value of filter criterion for field '{field.name}' must be of type {word} and {quotes}",
        )

    def _literal(self, value: Value, kind: str, norm: Callable[[Any], Any] | None) -> Any:
        """The comparable form of a literal (None for null); a malformed Id is an error."""
        if isinstance(value, NullValue):
            return False if kind == "boolean" else None
        if isinstance(value, DateValue | DateTimeValue):
            return value.wire
        if isinstance(value, StringValue) and kind == "id":
            ident = canonical_id(value.value)
            if ident is None:
                raise error_at(
                    "INVALID_QUERY_FILTER_OPERATOR", self.text, value.pos, f"invalid ID field: {value.value}"
                )
            return ident
        if isinstance(value, StringValue) and norm is not None:
            return norm(value.value)
        assert not isinstance(value, RelativeDate)
        return value.value

    def _like(self, get: Getter, value: Value, field: FieldDef) -> Predicate:
        if not isinstance(value, StringValue):
            return lambda record: False
        flags = re.DOTALL if field.case_sensitive else re.DOTALL | re.IGNORECASE
        match = re.compile(value.pattern, flags).fullmatch

        def like(record: Record) -> bool:
            current = get(record)
            return current is not None and match(current) is not None

        return like

    def _membership(
        self,
        keyed: Getter,
        get: Getter,
        values: tuple[Value, ...],
        kind: str,
        norm: Callable[[Any], Any] | None,
        negated: bool,
    ) -> Predicate:
        ranges = [
            date_literal_range(v.name, v.n, self.today).bounds(kind) for v in values if isinstance(v, RelativeDate)
        ]
        literals = [self._literal(v, kind, norm) for v in values if not isinstance(v, RelativeDate)]
        wanted = frozenset(v for v in literals if v is not None)
        with_null = len(wanted) < len(literals)

        def member(record: Record) -> bool:
            current = keyed(record)
            if current is None:
                return with_null
            if current in wanted:
                return True
            return bool(ranges) and any(low <= get(record) < high for low, high in ranges)

        if negated:
            return lambda record: keyed(record) is not None and not member(record)
        return member

    def _in_range(self, get: Getter, value: RelativeDate, field: FieldDef, op: str) -> Predicate:
        """A comparison with a relative date literal, which stands for the range of days [low, high)."""
        low, high = date_literal_range(value.name, value.n, self.today).bounds(field.type)
        inside: dict[str, Callable[[Any], bool]] = {
            "=": lambda v: low <= v < high,
            "!=": lambda v: not low <= v < high,
            "<": lambda v: v < low,
            "<=": lambda v: v < high,
            ">": lambda v: v >= high,
            ">=": lambda v: v >= low,
        }
        test = inside[op]
        if op == "!=":
            return lambda record: (current := get(record)) is None or test(current)
        return lambda record: (current := get(record)) is not None and test(current)


def _as_boolean(get: Getter) -> Getter:
    def boolean(record: Record) -> bool:
        return bool(get(record))  # the platform has no null booleans: null reads as false

    return boolean


def _keyed(get: Getter, norm: Callable[[Any], Any]) -> Getter:
    def keyed(record: Record) -> Any:
        value = get(record)
        return None if value is None else norm(value)

    return keyed


def _includes(keyed: Getter, wanted: list[frozenset[str]]) -> Callable[[Record], bool | None]:
    """True if the picklist holds all values of one of the `wanted` sets ("a;b" means a and b), None if null."""

    def includes(record: Record) -> bool | None:
        current = keyed(record)
        if current is None:
            return None
        return any(group <= current for group in wanted)

    return includes


def _every(parts: list[Predicate]) -> Predicate:
    def every(record: Record) -> bool:
        return all(part(record) for part in parts)

    return every


def _some(parts: list[Predicate]) -> Predicate:
    def some(record: Record) -> bool:
        return any(part(record) for part in parts)

    return some

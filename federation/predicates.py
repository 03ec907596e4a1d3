"""Our own predicate tree: what the engine hands a connector to push down to its API.

The DuckDB bridge translates DuckDB's filter nodes into these types, so connectors never see DuckDB's private
classes. Values are plain Python values of the column's Arrow type: `str`, `bool`, `int`, `float`,
`decimal.Decimal`, `datetime.date`, `datetime.time`, and timezone-aware UTC `datetime.datetime` for timestamps.

Pushdown is a superset: the engine re-applies every accepted predicate to every batch with DuckDB's exact
semantics, so a connector only has to make sure the API returns *at least* the matching rows. `pushable` turns
an accepted predicate into the largest part that a table's columns can push in that sense.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass


class Operator(enum.Enum):
    """An operator a column can push to the API, after negations were pushed down to the leaves."""

    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IN = "IN"
    NOT_IN = "NOT IN"
    IS_NULL = "IS NULL"
    IS_NOT_NULL = "IS NOT NULL"


#: Operators safe to push for any column whose API comparison agrees exactly with DuckDB's.
ALL_OPERATORS = frozenset(Operator)

#: The comparisons by the short names OData and many JSON APIs give them (`eq`, `ne`, `lt`, …).
SHORT_NAMES = {
    Operator.EQ: "eq",
    Operator.NE: "ne",
    Operator.LT: "lt",
    Operator.LE: "le",
    Operator.GT: "gt",
    Operator.GE: "ge",
}

_NEGATED = {
    Operator.EQ: Operator.NE,
    Operator.NE: Operator.EQ,
    Operator.LT: Operator.GE,
    Operator.GE: Operator.LT,
    Operator.GT: Operator.LE,
    Operator.LE: Operator.GT,
    Operator.IN: Operator.NOT_IN,
    Operator.NOT_IN: Operator.IN,
    Operator.IS_NULL: Operator.IS_NOT_NULL,
    Operator.IS_NOT_NULL: Operator.IS_NULL,
}


@dataclass(frozen=True)
class Comparison:
    """`column <op> value` for op in = != < <= > >=; never NULL (NULL comparisons arrive as `IsNull`)."""

    column: str
    op: Operator
    value: object


@dataclass(frozen=True)
class InList:
    """`column IN (values)` or, negated, `column NOT IN (values)`; values are never NULL."""

    column: str
    values: tuple[object, ...]
    negated: bool = False

    @property
    def op(self) -> Operator:
        return Operator.NOT_IN if self.negated else Operator.IN


@dataclass(frozen=True)
class IsNull:
    """`column IS NULL` or, negated, `column IS NOT NULL`."""

    column: str
    negated: bool = False

    @property
    def op(self) -> Operator:
        return Operator.IS_NOT_NULL if self.negated else Operator.IS_NULL


@dataclass(frozen=True)
class And:
    operands: tuple[Predicate, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Predicate, ...]


@dataclass(frozen=True)
class Not:
    operand: Predicate


Leaf = Comparison | InList | IsNull
Predicate = Leaf | And | Or | Not


def conjunction(predicates: list[Predicate]) -> Predicate | None:
    """AND of the predicates, None for none."""
    if not predicates:
        return None
    return predicates[0] if len(predicates) == 1 else And(tuple(predicates))


def negation_normal_form(predicate: Predicate, negate: bool = False) -> Predicate:
    """The predicate with every NOT pushed into the leaves (De Morgan), which holds in SQL's three-valued logic."""
    match predicate:
        case Not(operand=operand):
            return negation_normal_form(operand, not negate)
        case And(operands=operands):
            parts = tuple(negation_normal_form(p, negate) for p in operands)
            return Or(parts) if negate else And(parts)
        case Or(operands=operands):
            parts = tuple(negation_normal_form(p, negate) for p in operands)
            return And(parts) if negate else Or(parts)
        case Comparison(column=column, op=op, value=value):
            return Comparison(column, _NEGATED[op], value) if negate else predicate
        case InList(column=column, values=values, negated=negated):
            return InList(column, values, negated != negate)
        case IsNull(column=column, negated=negated):
            return IsNull(column, negated != negate)
    raise TypeError(f"not a predicate: {predicate!r}")


def pushable(predicate: Predicate, can_push: Callable[[str, Operator], bool]) -> Predicate | None:
    """The largest superset of `predicate` made only of leaves `can_push` allows; None means "everything".

    In negation normal form every leaf is positive, so replacing a leaf the API can't evaluate by TRUE only widens
    the result: an AND keeps its other operands, an OR becomes TRUE.
    """
    return _relax(negation_normal_form(predicate), can_push)


def _relax(predicate: Predicate, can_push: Callable[[str, Operator], bool]) -> Predicate | None:
    match predicate:
        case And(operands=operands):
            kept = [part for p in operands if (part := _relax(p, can_push)) is not None]
            return conjunction(kept)
        case Or(operands=operands):
            relaxed = [_relax(p, can_push) for p in operands]
            if any(part is None for part in relaxed):
                return None
            return Or(tuple(part for part in relaxed if part is not None))
        case Comparison() | InList() | IsNull():
            return predicate if can_push(predicate.column, predicate.op) else None
    raise TypeError(f"not in negation normal form: {predicate!r}")


def columns_of(predicate: Predicate) -> Iterator[str]:
    """Every column the predicate reads."""
    match predicate:
        case And(operands=operands) | Or(operands=operands):
            for part in operands:
                yield from columns_of(part)
        case Not(operand=operand):
            yield from columns_of(operand)
        case Comparison(column=column) | InList(column=column) | IsNull(column=column):
            yield column

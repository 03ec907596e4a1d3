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
    #: A string pattern (`Like`): DuckDB never offers one to a scan; the planner adds it (`federation.planner`).
    LIKE = "LIKE"


#: Operators safe to push for any column whose API comparison agrees exactly with DuckDB's. LIKE is not among
#: them: a column declares it only where its connector's compiler spells patterns.
ALL_OPERATORS = frozenset(Operator) - {Operator.LIKE}

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


class Wildcard(enum.Enum):
    """A LIKE wildcard: `%` (any run of characters, maybe none) or `_` (exactly one character)."""

    ANY = "%"
    ONE = "_"


@dataclass(frozen=True)
class Like:
    """`column LIKE pattern`, case-sensitive as DuckDB's LIKE: the pattern as literal text and wildcards, so no
    character of the text is ever read as a wildcard or an escape by a compiler that spells it.

    Only ever positive (a conjunct the planner found in a WHERE clause), so it has no negated form."""

    column: str
    pattern: tuple[str | Wildcard, ...]

    @property
    def op(self) -> Operator:
        return Operator.LIKE

    @property
    def prefix(self) -> str:
        """The literal text before the first wildcard."""
        head = self.pattern[0] if self.pattern else ""
        return head if isinstance(head, str) else ""

    @property
    def is_prefix(self) -> bool:
        """Whether the pattern is `text%`: every string starting with the text, and nothing else."""
        return len(self.pattern) == 2 and isinstance(self.pattern[0], str) and self.pattern[1] is Wildcard.ANY

    @property
    def is_substring(self) -> bool:
        """Whether the pattern is `%text%`: every string containing the text."""
        inner = self.pattern[1:-1]
        return (
            len(self.pattern) == 3
            and self.pattern[0] is Wildcard.ANY
            and self.pattern[-1] is Wildcard.ANY
            and isinstance(inner[0], str)
        )

    def spelled(self, text: Callable[[str], str]) -> str:
        """The pattern in a query language's LIKE syntax where `%` and `_` are its wildcards, each run of literal
        text spelled by `text` (which escapes what that language would read as a wildcard)."""
        return "".join(part.value if isinstance(part, Wildcard) else text(part) for part in self.pattern)


def like_pattern(pattern: str, escape: str | None = None) -> tuple[str | Wildcard, ...] | None:
    """DuckDB's LIKE pattern text as a `Like` pattern (`escape`: the ESCAPE character, if any), or None when
    DuckDB would refuse it (an escape at the end)."""
    parts: list[str | Wildcard] = []
    text: list[str] = []
    characters = iter(pattern)
    for ch in characters:
        if escape is not None and ch == escape:
            following = next(characters, None)
            if following is None:
                return None
            text.append(following)
        elif ch in "%_":
            if text:
                parts.append("".join(text))
                text.clear()
            wildcard = Wildcard(ch)
            if not (wildcard is Wildcard.ANY and parts and parts[-1] is Wildcard.ANY):  # `%%` is `%`
                parts.append(wildcard)
        else:
            text.append(ch)
    if text:
        parts.append("".join(text))
    return tuple(parts)


@dataclass(frozen=True)
class And:
    operands: tuple[Predicate, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Predicate, ...]


@dataclass(frozen=True)
class Not:
    operand: Predicate


Leaf = Comparison | InList | IsNull | Like
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
        case Like() if not negate:
            return predicate
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
        case Comparison() | InList() | IsNull() | Like():
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
        case Comparison(column=column) | InList(column=column) | IsNull(column=column) | Like(column=column):
            yield column

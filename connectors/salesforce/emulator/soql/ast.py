"""The SOQL syntax tree: what ``parse`` returns and ``execute`` runs.

Nodes are frozen dataclasses and know nothing about any catalog: names stay as the query spelled them and are
resolved at execution. Every node that can be the subject of an error keeps `pos`, its character offset in the
query text, so errors found later can still point at the right row and column.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldRef:
    """A field path as written: ``Name``, ``Owner.Name``, ``a.Account.Owner.Name`` (`parts` split at the dots)."""

    parts: tuple[str, ...]
    pos: int

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Aggregate:
    """An aggregate call: `function` upper case (COUNT, COUNT_DISTINCT, SUM, AVG, MIN, MAX); COUNT() has no argument."""

    function: str
    argument: FieldRef | None
    pos: int


@dataclass(frozen=True)
class FieldsFunction:
    """``FIELDS(ALL|STANDARD|CUSTOM)``; `kind` upper case."""

    kind: str
    pos: int


@dataclass(frozen=True)
class SelectItem:
    """One element of the SELECT list with its alias, if any."""

    expression: FieldRef | Aggregate | FieldsFunction
    alias: str | None = None


@dataclass(frozen=True)
class StringValue:
    """A quoted string: `value` decoded, `pattern` the regex it stands for as a LIKE pattern."""

    value: str
    pattern: str
    pos: int


@dataclass(frozen=True)
class NumberValue:
    value: int | float
    pos: int


@dataclass(frozen=True)
class BooleanValue:
    value: bool
    pos: int


@dataclass(frozen=True)
class NullValue:
    pos: int


@dataclass(frozen=True)
class DateValue:
    """A date literal ``YYYY-MM-DD`` (`wire` is the same text)."""

    wire: str
    pos: int


@dataclass(frozen=True)
class DateTimeValue:
    """A datetime literal; `wire` is the instant in the records' UTC wire form."""

    wire: str
    pos: int


@dataclass(frozen=True)
class RelativeDate:
    """A date literal such as TODAY or LAST_N_DAYS:7 (`name` upper case, `n` only for the ``:n`` forms)."""

    name: str
    n: int | None
    pos: int


Value = StringValue | NumberValue | BooleanValue | NullValue | DateValue | DateTimeValue | RelativeDate


@dataclass(frozen=True)
class Comparison:
    """``target operator value``; `operator` is one of = != < <= > >= LIKE IN NOT_IN INCLUDES EXCLUDES.

    Single-value operators have exactly one element in `values`; ``<>`` is stored as ``!=``.
    """

    target: FieldRef | Aggregate
    operator: str
    values: tuple[Value, ...]
    pos: int


@dataclass(frozen=True)
class SemiJoin:
    """``field [NOT] IN (SELECT idField FROM … [WHERE …])``."""

    target: FieldRef
    negated: bool
    query: Query


@dataclass(frozen=True)
class Not:
    operand: Condition


@dataclass(frozen=True)
class And:
    operands: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Condition, ...]


Condition = Comparison | SemiJoin | Not | And | Or


@dataclass(frozen=True)
class OrderItem:
    """One ORDER BY key; `nulls_first` None means the default (first for ASC, last for DESC)."""

    target: FieldRef | Aggregate
    descending: bool
    nulls_first: bool | None


@dataclass(frozen=True)
class Query:
    """A parsed SELECT. `text` is the whole query text (shared by a semi-join's inner query) for error framing."""

    text: str
    select: tuple[SelectItem, ...]
    object_name: str
    object_pos: int
    alias: str | None
    where: Condition | None
    group_by: tuple[FieldRef, ...]
    having: Condition | None
    order_by: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None

    @property
    def is_count(self) -> bool:
        """``SELECT COUNT() FROM …``: the answer is only a number."""
        return any(isinstance(i.expression, Aggregate) and i.expression.argument is None for i in self.select)

    @property
    def is_aggregate(self) -> bool:
        """Whether the result is AggregateResult rows (an aggregate function or GROUP BY, COUNT() excepted)."""
        if self.is_count:
            return False
        return bool(self.group_by) or any(isinstance(i.expression, Aggregate) for i in self.select)

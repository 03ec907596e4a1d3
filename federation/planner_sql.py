"""The planner's reading of SQL (sqlglot): a SELECT's own expressions, the table its FROM names, and its WHERE
clause as `federation.predicates`, each constant typed as DuckDB compares it with the column.

Only what has one obvious meaning is translated (a column against a literal of the column's own kind); anything
else — parameters, expressions, casts DuckDB would make with the session's time zone — makes the translation
None, and the planner then leaves the statement to DuckDB.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pyarrow as pa
from sqlglot import exp

from federation.errors import UnknownColumnError
from federation.predicates import (
    And,
    Comparison,
    InList,
    IsNull,
    Not,
    Operator,
    Or,
    Predicate,
    columns_of,
    negation_normal_form,
    pushable,
)
from federation.table import Column, Table, TableInfo

_OPERATORS: dict[type[exp.Expr], Operator] = {
    exp.EQ: Operator.EQ,
    exp.NEQ: Operator.NE,
    exp.LT: Operator.LT,
    exp.LTE: Operator.LE,
    exp.GT: Operator.GT,
    exp.GTE: Operator.GE,
}
_FLIPPED = {Operator.LT: Operator.GT, Operator.LE: Operator.GE, Operator.GT: Operator.LT, Operator.GE: Operator.LE}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: What the connection tells the planner about a table a statement names: its source key and table, or None.
Lookup = Callable[[str | None, str], tuple[str, Table] | None]
_INTEGER = re.compile(r"-?\d+")


@dataclass(frozen=True)
class Scope:
    """One table of a SELECT, as its FROM names it (`alias`: the alias, else the table's name)."""

    info: TableInfo
    alias: str

    def column(self, node: exp.Expr | None) -> Column | None:
        """The table's column a column reference names, or None (another table's, an alias, unknown)."""
        if not isinstance(node, exp.Column) or node.args.get("db") is not None:
            return None
        if node.table and node.table.lower() != self.alias.lower():
            return None
        try:
            return self.info.column(node.name)
        except UnknownColumnError:
            return None


def translate(node: exp.Expr, scope: Scope) -> Predicate | None:
    """The predicate a condition states, or None when it is not one column against constants throughout."""
    if isinstance(node, exp.Paren):
        return translate(node.this, scope)
    if isinstance(node, exp.And | exp.Or):
        left, right = translate(node.this, scope), translate(node.expression, scope)
        if left is None or right is None:
            return None
        kind = And if isinstance(node, exp.And) else Or
        parts = [p for side in (left, right) for p in (side.operands if isinstance(side, kind) else (side,))]
        return kind(tuple(parts))
    if isinstance(node, exp.Not):
        inner = translate(node.this, scope)
        return None if inner is None else Not(inner)
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
        column = scope.column(node.this)
        return None if column is None else IsNull(column.name)
    if isinstance(node, exp.In) and not node.args.get("query") and not node.args.get("unnest"):
        column = scope.column(node.this)
        values = [_value(v, column) for v in node.expressions] if column is not None else []
        if column is None or not values or any(v is None for v in values):
            return None
        return InList(column.name, tuple(values))
    if isinstance(node, exp.Between):
        column = scope.column(node.this)
        low, high = _value(node.args.get("low"), column), _value(node.args.get("high"), column)
        if column is None or low is None or high is None:
            return None
        return And((Comparison(column.name, Operator.GE, low), Comparison(column.name, Operator.LE, high)))
    op = _OPERATORS.get(type(node))
    if op is None:
        return None
    for side, other, flipped in ((node.this, node.expression, False), (node.expression, node.this, True)):
        column = scope.column(side)
        value = _value(other, column)
        if column is not None and value is not None:
            return Comparison(column.name, _FLIPPED.get(op, op) if flipped else op, value)
    return None


def _value(node: exp.Expr | None, column: Column | None) -> object | None:
    """A literal as the value DuckDB compares `column` with, or None when that is not plain."""
    if column is None or node is None:
        return None
    kind = column.type
    negative = isinstance(node, exp.Neg)
    if negative:
        node = node.this
    if isinstance(node, exp.Boolean):
        return bool(node.this) if pa.types.is_boolean(kind) and not negative else None
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DType.DATE):
        node = node.this if pa.types.is_date(kind) else None
    if not isinstance(node, exp.Literal):
        return None
    text = ("-" if negative else "") + node.name
    if node.is_string:
        if negative:
            return None
        if pa.types.is_string(kind):
            return node.name
        if pa.types.is_date(kind) and _DATE.fullmatch(text):
            try:
                return datetime.date.fromisoformat(text)
            except ValueError:
                return None
        return None
    if pa.types.is_integer(kind):
        return int(text) if _INTEGER.fullmatch(text) else None
    if pa.types.is_decimal(kind):
        try:
            return decimal.Decimal(text)
        except decimal.InvalidOperation:
            return None
    if pa.types.is_floating(kind):
        return float(text)
    return None


def conjuncts(predicate: Predicate) -> Iterator[Predicate]:
    """The top-level conjuncts of a predicate (nested ANDs flattened)."""
    if isinstance(predicate, And):
        for part in predicate.operands:
            yield from conjuncts(part)
    else:
        yield predicate


def exactly_pushed(predicate: Predicate, info: TableInfo) -> bool:
    """Whether the API applies all of `predicate` itself, exactly as DuckDB would: every leaf pushable on a column
    whose pushdown is exact. Nothing re-checks rows that a LIMIT or an aggregate never sees."""
    normal = negation_normal_form(predicate)
    if pushable(normal, info.can_push) != normal:
        return False
    return all(info.column(name).exact for name in columns_of(normal))


def own(node: exp.Expr) -> Iterator[exp.Expr]:
    """`node` and what it contains, leaving out subqueries (they are scopes of their own)."""
    yield node
    for child in node.iter_expressions():
        if not isinstance(child, exp.Query | exp.Subquery):
            yield from own(child)


def clauses(select: exp.Select) -> list[exp.Expr]:
    """What is evaluated after grouping: the select list, HAVING and ORDER BY."""
    return [*select.expressions, *(select.args[a] for a in ("having", "order") if select.args.get(a) is not None)]


def alias(scope: Scope) -> exp.Identifier:
    return exp.to_identifier(scope.alias, quoted=True)


def selected(select: exp.Select, item: exp.Expr) -> exp.Expr | None:
    """What a GROUP BY or ORDER BY item stands for: a select-list item for an ordinal (`GROUP BY 1`), unaliased."""
    if isinstance(item, exp.Literal) and not item.is_string:
        position = int(item.name) - 1
        found = select.expressions[position] if 0 <= position < len(select.expressions) else None
        return found.this if isinstance(found, exp.Alias) else found
    return item


def swap(select: exp.Select, scope: Scope, key: str, table: TableInfo, fingerprint: str) -> str:
    """Point the SELECT's FROM at a new source named after the table and what it pushes; the table's alias
    (or name) stays, so the statement's column references still resolve."""
    return replace_table(select.args["from_"].this, scope, key, table, fingerprint)


def replace_table(node: exp.Table, scope: Scope, key: str, table: TableInfo, fingerprint: str) -> str:
    """Replace one table reference (a FROM's or a join's) by a new source named after the table and what it
    pushes, keeping its alias (or name); the new source's name is returned."""
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
    name = f"_duckfed_{key}_{table.name}_{digest}"
    node.replace(exp.Table(this=exp.to_identifier(name, quoted=True), alias=exp.TableAlias(this=alias(scope))))
    return name


def source_table(node: exp.Expr | None, lookup: Lookup, ctes: set[str]) -> tuple[str, Table] | None:
    """The source table a FROM or JOIN item names, read as it is (no sample, time travel, other catalog, nested
    join or pivot, and not a CTE of the statement), or None."""
    if not isinstance(node, exp.Table) or not node.name or isinstance(node.this, exp.Func):
        return None
    if any(node.args.get(a) for a in ("sample", "version", "catalog", "joins", "pivots", "laterals")):
        return None
    if not node.db and node.name.lower() in ctes:
        return None
    return lookup(node.db or None, node.name)


def sql_conjuncts(node: exp.Expr) -> Iterator[exp.Expr]:
    """The top-level conjuncts of a condition, as SQL (parentheses and nested ANDs flattened)."""
    if isinstance(node, exp.Paren):
        yield from sql_conjuncts(node.this)
    elif isinstance(node, exp.And):
        yield from sql_conjuncts(node.this)
        yield from sql_conjuncts(node.expression)
    else:
        yield node

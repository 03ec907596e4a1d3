"""Joins by key: when one side of a two-table join is selective (a WHERE clause on it alone: one account, a few
invoices, a filter only DuckDB can evaluate), the other side is fetched by the join keys that side holds, instead
of scanned whole.

DuckDB's source protocol hands a scan no join filters, so the planner does it: `SELECT … FROM a JOIN b ON a.x =
b.y WHERE a.name = 'Acme'` registers, for this statement,

- `a` as a `JoinDriver`: its rows read once (a scan pushing what it can of the WHERE conjuncts on `a` alone,
  which DuckDB evaluates exactly over it), kept for the statement; DuckDB's scan of `a` reads them, so they cost
  nothing twice;
- `b` as a `KeyedScan`: when DuckDB opens it, the distinct non-NULL `a.x` values of those rows become
  `y IN (…)` pushed to the API, one request per `TableInfo.keys_per_lookup` chunk; with no key at all nothing is
  fetched; with more keys than a scan would cost (`federation.keyed`), `b` is scanned as before.

The statement itself is unchanged but for the two names, so DuckDB still joins, filters and projects exactly. The
fetched-by-key side must be one whose rows appear only where they match: either side of an inner join, the
right side of a LEFT JOIN, the left of a RIGHT JOIN (never a FULL JOIN's). A NULL key matches nothing, so it is
never sent. The driving side's WHERE conjuncts filter it before the join, which an inner join or a side whose
rows are all kept (the left of a LEFT JOIN) allows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
from sqlglot import exp

from federation.planner_patterns import Parameters, pattern
from federation.planner_sql import Lookup, Scope, alias, replace_table, source_table, sql_conjuncts, translate
from federation.predicates import Like, Operator, Predicate, conjunction, negation_normal_form, pushable
from federation.statements import DIALECT
from federation.table import Table

#: The driving side's rows are read from a scan registered under this name (on a connection of its own).
DRIVEN_SCAN = "__duckfed_driver"
#: What a condition the driver's own query repeats must not hold: a subquery or an aggregate (other scopes), a
#: parameter (the driver's query has none), a function DuckDB evaluates anew each time or sqlglot doesn't know.
_UNREPEATABLE = (
    exp.Query,
    exp.Subquery,
    exp.AggFunc,
    exp.Window,
    exp.Placeholder,
    exp.Parameter,
    exp.Rand,
    exp.Anonymous,
)


@dataclass(frozen=True)
class JoinDriver:
    """The selective side of a join, registered as `name`: the rows of `sql` (a SELECT over the table registered as
    `DRIVEN_SCAN`, pushing `narrowing` beside what DuckDB accepts), read once per statement."""

    key: str
    table: Table
    name: str
    sql: str
    narrowing: tuple[Predicate, ...]
    #: What the driver's scan sends the API (for EXPLAIN, before DuckDB is asked what it accepts).
    pushed: Predicate | None = None
    #: The columns the statement reads of this side (a scan that reads fewer may take a cheaper path).
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class KeyedScan:
    """The other side, registered as `name`: a scan of `table` that pushes `column IN (…)` with the distinct values
    of the driver's `driver_column` (and `narrowing`, patterns the WHERE clause tests it with)."""

    key: str
    table: Table
    name: str
    driver: str
    driver_column: str
    column: str
    narrowing: tuple[Predicate, ...] = ()


@dataclass(frozen=True)
class _Side:
    node: exp.Table
    key: str
    table: Table
    scope: Scope


def keyed(
    select: exp.Select, lookup: Lookup, ctes: set[str], parameters: Parameters = None
) -> list[JoinDriver | KeyedScan]:
    """The join of `select` rewritten to fetch one side by the other's keys: the driver then the keyed scan, or
    nothing (the SELECT untouched) when no side is selective or the keys can't be pushed."""
    joins = select.args.get("joins") or []
    where = select.args.get("where")
    if len(joins) != 1 or where is None or any(select.args.get(a) for a in ("laterals", "pivots", "connect")):
        return []
    join = joins[0]
    kind, side = (join.args.get("kind") or "").upper(), (join.args.get("side") or "").upper()
    if join.args.get("method") or kind not in ("", "INNER", "OUTER") or side == "FULL" or join.args.get("using"):
        return []
    source = select.args.get("from_")
    left = _side(source.this if source is not None else None, lookup, ctes)
    right = _side(join.this, lookup, ctes)
    on = join.args.get("on")
    if left is None or right is None or on is None or left.scope.alias.lower() == right.scope.alias.lower():
        return []
    pair = _equality(on, left, right)
    if pair is None:
        return []
    # Only a side whose unmatched rows are dropped may be fetched by key.
    candidates = {"": [(left, right), (right, left)], "LEFT": [(left, right)], "RIGHT": [(right, left)]}[side]
    conjuncts = list(sql_conjuncts(where.this))
    # A side the API narrows drives first; a side only DuckDB's filter narrows is read whole, then drives.
    ranked = sorted(candidates, key=lambda pair: _selective(conjuncts, pair[0])[2] is None)
    for driver, driven in ranked:
        conditions, narrowing, pushed = _selective(conjuncts, driver)
        column, driven_column = pair if driver is left else (pair[1], pair[0])
        if not conditions or not _keyable(driver, column, driven, driven_column):
            continue
        columns = _read(select, driver, column)
        driver_sql = _driver_sql(driver, conditions, columns)
        driver_name = replace_table(driver.node, driver.scope, driver.key, driver.table.info, driver_sql)
        patterns = tuple(_patterns(conjuncts, driven, parameters))
        fingerprint = repr((driver_name, column, driven_column, patterns))
        driven_name = replace_table(driven.node, driven.scope, driven.key, driven.table.info, fingerprint)
        return [
            JoinDriver(driver.key, driver.table, driver_name, driver_sql, narrowing, pushed, columns),
            KeyedScan(driven.key, driven.table, driven_name, driver_name, column, driven_column, patterns),
        ]
    return []


def _side(node: exp.Expr | None, lookup: Lookup, ctes: set[str]) -> _Side | None:
    located = source_table(node, lookup, ctes)
    if located is None or not isinstance(node, exp.Table):
        return None
    key, table = located
    return _Side(node, key, table, Scope(table.info, node.alias_or_name))


def _equality(on: exp.Expr, left: _Side, right: _Side) -> tuple[str, str] | None:
    """The (left column, right column) of the first `l.x = r.y` conjunct of the ON clause, both qualified."""
    for conjunct in sql_conjuncts(on):
        if not isinstance(conjunct, exp.EQ):
            continue
        a, b = conjunct.this, conjunct.expression
        if not (isinstance(a, exp.Column) and isinstance(b, exp.Column) and a.table and b.table):
            continue
        for first, second in ((a, b), (b, a)):
            x, y = left.scope.column(first), right.scope.column(second)
            if x is not None and y is not None:
                return x.name, y.name
    return None


def _only(conjunct: exp.Expr, side: _Side) -> bool:
    """Whether every column the conjunct reads is the side's, named with its alias."""
    columns = list(conjunct.find_all(exp.Column))
    return bool(columns) and all(c.table and side.scope.column(c) is not None for c in columns)


def _selective(
    conjuncts: list[exp.Expr], side: _Side
) -> tuple[list[exp.Expr], tuple[Predicate, ...], Predicate | None]:
    """The WHERE conjuncts on the side alone (DuckDB applies them to the driver's rows), the patterns among them
    (which only the planner can hand a scan), and what of them the API is sent (None: nothing narrows the
    request, so the side is read whole, and DuckDB's filtering alone makes it selective)."""
    info = side.table.info
    kept: list[exp.Expr] = []
    patterns: list[Predicate] = []
    sent: list[Predicate] = []
    for conjunct in conjuncts:
        if not _only(conjunct, side) or any(isinstance(n, _UNREPEATABLE) for n in conjunct.walk()):
            continue
        kept.append(conjunct)
        found = pattern(conjunct, side.scope, qualified=True)
        if found is not None and info.can_push(found.column, Operator.LIKE):
            patterns.append(found)
            continue
        predicate = translate(conjunct, side.scope)
        part = None if predicate is None else pushable(negation_normal_form(predicate), info.can_push)
        if part is not None:
            sent.append(part)
    unique = tuple(dict.fromkeys(patterns))
    return kept, unique, conjunction([*sent, *unique])


def _patterns(conjuncts: list[exp.Expr], side: _Side, parameters: Parameters) -> Iterator[Like]:
    for conjunct in conjuncts:
        found = pattern(conjunct, side.scope, qualified=True, parameters=parameters) if _only(conjunct, side) else None
        if found is not None and side.table.info.can_push(found.column, Operator.LIKE):
            yield found


def _keyable(driver: _Side, column: str, driven: _Side, driven_column: str) -> bool:
    """Whether the driver's key values can be sent as the driven column's IN list: the same plain type."""
    kind, other = driver.table.info.column(column).type, driven.table.info.column(driven_column).type
    plain = pa.types.is_string(kind) or pa.types.is_integer(kind) or pa.types.is_date(kind)
    return plain and kind.equals(other) and driven.table.info.can_push(driven_column, Operator.IN)


def _read(select: exp.Select, side: _Side, key: str) -> tuple[str, ...]:
    """The side's columns the SELECT names (all of them for a star), in the table's order; the key among them."""
    info = side.table.info
    everything = tuple(c.name for c in info.columns)
    if any(True for _ in select.find_all(exp.Star, exp.Columns)):
        return everything
    named = {key.lower()}
    for node in select.find_all(exp.Column):
        if not node.table and node.name.lower() == side.scope.alias.lower():
            return everything  # the whole row, as a struct
        if node.table and node.table.lower() != side.scope.alias.lower():
            continue
        found = side.scope.column(exp.column(node.name)) if not node.table else side.scope.column(node)
        if found is not None:
            named.add(found.name.lower())
    return tuple(c.name for c in info.columns if c.name.lower() in named)


def _driver_sql(driver: _Side, conditions: list[exp.Expr], columns: tuple[str, ...]) -> str:
    table = alias(driver.scope)
    query = exp.select(*(exp.column(exp.to_identifier(c, quoted=True), table=table) for c in columns)).from_(
        exp.Table(this=exp.to_identifier(DRIVEN_SCAN), alias=exp.TableAlias(this=table))
    )
    return query.where(*(c.copy() for c in conditions)).sql(dialect=DIALECT)

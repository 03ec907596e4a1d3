"""The planner: aggregate, count, top-N and LIMIT pushdown, by rewriting a SELECT before DuckDB plans it.

DuckDB's source protocol hands a scan only its projection and filters, never an ORDER BY, a LIMIT or a GROUP BY.
So before DuckDB sees a statement, each SELECT (or subquery) whose FROM is one source table is looked at here:

- `… [WHERE …] [ORDER BY columns] LIMIT n`: the table reference is swapped for a scan of the same table that
  carries a `ScanHint` (the limit, the order), registered for this statement. DuckDB still sorts and limits on
  top; the scan pushes the hint only when DuckDB hands it exactly the WHERE clause planned for, so every row the
  LIMIT needs is among those the API returns.
- `… WHERE name LIKE 'Acme%' …`: string patterns, which DuckDB never offers a scan, are pushed by swapping the
  table for a scan that carries them (`federation.planner_patterns`); DuckDB keeps the WHERE clause.
- `… a JOIN b ON a.x = b.y WHERE a.name = 'Acme'`: the selective side is read first and the other fetched by
  its keys (`federation.planner_joins`).
- `SELECT groups, count(*)/count(col)/sum/min/max/avg … [WHERE …] GROUP BY groups`: the FROM, WHERE and GROUP
  BY become one source whose rows are the groups (`Table.aggregate`, or a scan DuckDB aggregates when the API
  can't give exactly DuckDB's answer); HAVING, ORDER BY, LIMIT and the expressions around the aggregates still
  run in DuckDB.

Both are pushed only where the table declares the capability as data (`TableInfo.limit_pushdown`, `ordering`,
`aggregates`) and the answer is exactly DuckDB's: WHERE clauses the API applies exactly, orders with DuckDB's null
order and binary collation, sums and averages of integers and decimals only, text groups only where the API
groups by code point. Anything else is left to DuckDB as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
from sqlglot import exp

from federation.planner_aggregates import PushedAggregate, pushed_aggregate
from federation.planner_joins import JoinDriver, KeyedScan, keyed
from federation.planner_patterns import Narrowed, Parameters, narrowed
from federation.planner_sql import (
    Lookup,
    Scope,
    conjuncts,
    exactly_pushed,
    own,
    selected,
    source_table,
    swap,
    translate,
)
from federation.predicates import Predicate, negation_normal_form
from federation.statements import DIALECT, explained, number_placeholders, parse
from federation.table import SortKey, Table, TableInfo

#: DuckDB's defaults the pushed orders assume (ORDER BY a is ASC NULLS LAST, text by code point).
DUCKDB_DEFAULTS = ("NULLS_LAST", "ASCENDING", "")
_SET_RETURNING = frozenset({"unnest", "generate_subscripts"})


@dataclass(frozen=True)
class ScanHint:
    """A limit (and an order) a scan may push, when DuckDB hands it exactly these accepted conjuncts."""

    limit: int
    order_by: tuple[SortKey, ...]
    conjuncts: frozenset[Predicate]

    def applies(self, filters: list[Predicate], info: TableInfo) -> bool:
        """Whether the filters DuckDB pushed are the planned WHERE clause, each applied exactly by the API: only
        then are the first `limit` rows the API returns the first ones DuckDB keeps."""
        found = frozenset(c for f in filters for c in conjuncts(negation_normal_form(f)))
        return found == self.conjuncts and all(exactly_pushed(c, info) for c in found)


@dataclass(frozen=True)
class TopN:
    """A scan of `table` with a hint, registered as `name` for one statement."""

    key: str
    table: Table
    name: str
    hint: ScanHint


#: A per-statement source the planner registers.
Planned = TopN | PushedAggregate | Narrowed | JoinDriver | KeyedScan


@dataclass(frozen=True)
class Plan:
    """The statement to run, and the per-statement sources it names."""

    sql: str
    sources: tuple[Planned, ...] = ()
    #: Whether it is an EXPLAIN (not EXPLAIN ANALYZE), whose rows also show the API requests.
    explain: bool = False


class Planner:
    """Rewrites one statement at a time, finding tables with `lookup`; `defaults` gives DuckDB's current
    (default_null_order, default_order, default_collation) settings, read only when an order is considered."""

    def __init__(self, lookup: Lookup, defaults: Callable[[], tuple[str, str, str]]) -> None:
        self.lookup = lookup
        self.defaults = defaults

    def plan(self, sql: str, parameters: Parameters = None) -> Plan:
        """The statement with what its tables can compute pushed to them (`sql` itself when nothing is);
        `parameters`, the values it will be run with, let a bound LIKE pattern reach the API too."""
        inner = explained(sql)
        prefix = sql[: len(sql) - len(inner)] if inner is not None else ""  # EXPLAIN [ANALYZE]
        explain = inner is not None and "ANALY" not in prefix.upper()
        statements = parse(number_placeholders(inner if inner is not None else sql))
        if len(statements) != 1 or not isinstance(statements[0], exp.Query):
            return Plan(sql, explain=explain)
        statement = statements[0]
        sources: list[Planned] = []
        ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
        for select in list(statement.find_all(exp.Select)):
            found = self._single_table(select, ctes)
            planned = None if found is None else pushed_aggregate(select, *found) or self._top_n(select, *found)
            if planned is not None:
                sources.append(planned)
            else:
                found_keys = keyed(select, self.lookup, ctes, parameters)
                sources.extend(found_keys or narrowed(select, self.lookup, ctes, parameters))
        if not sources:
            return Plan(sql, explain=explain)
        return Plan(f"{prefix} {statement.sql(dialect=DIALECT)}".lstrip(), tuple(sources), explain)

    def _single_table(self, select: exp.Select, ctes: set[str]) -> tuple[Scope, str, Table] | None:
        source = select.args.get("from_")
        table = source.this if source is not None else None
        if not isinstance(table, exp.Table) or not table.name or isinstance(table.this, exp.Func):
            return None
        if any(select.args.get(a) for a in ("joins", "laterals", "pivots", "qualify", "windows", "connect")):
            return None
        located = source_table(table, self.lookup, ctes)
        if located is None:
            return None
        key, found = located
        return Scope(found.info, table.alias_or_name), key, found

    # -- top-N and LIMIT ----------------------------------------------------------------------------------------

    def _top_n(self, select: exp.Select, scope: Scope, key: str, table: Table) -> TopN | None:
        info = table.info
        limit = _integer(select.args.get("limit"))
        offset = _integer(select.args.get("offset")) if select.args.get("offset") is not None else 0
        if not info.limit_pushdown or limit is None or offset is None:
            return None
        if select.args.get("distinct") or select.args.get("group") or select.args.get("having"):
            return None
        if any(_changes_rows(node) for node in select.expressions):
            return None
        where = select.args.get("where")
        planned: frozenset[Predicate] = frozenset()
        if where is not None:
            predicate = translate(where.this, scope)
            if predicate is None or not all(exactly_pushed(c, info) for c in conjuncts(predicate)):
                return None
            planned = frozenset(conjuncts(negation_normal_form(predicate)))
        order = self._order(select, scope)
        if order is None:
            return None
        hint = ScanHint(limit + offset, order, planned)
        return TopN(key, table, swap(select, scope, key, info, repr(hint)), hint)

    def _order(self, select: exp.Select, scope: Scope) -> tuple[SortKey, ...] | None:
        """The ORDER BY as keys the table sorts exactly as DuckDB does; () without one, None when it can't."""
        clause = select.args.get("order")
        if clause is None:
            return ()
        info = scope.info
        if info.ordering is None or self.defaults() != DUCKDB_DEFAULTS:
            return None
        aliases = {e.alias.lower(): e.this for e in select.expressions if isinstance(e, exp.Alias)}
        keys: list[SortKey] = []
        for ordered in clause.expressions:
            target = selected(select, ordered.this)
            if isinstance(target, exp.Column) and not target.table and target.name.lower() in aliases:
                target = aliases[target.name.lower()]  # DuckDB orders by a select alias before a column
            column = scope.column(target)
            if column is None or not column.sortable or pa.types.is_floating(column.type):
                return None
            if pa.types.is_string(column.type) and info.ordering.collation != "binary":
                return None
            key = SortKey(column.name, bool(ordered.args.get("desc")), bool(ordered.args.get("nulls_first")))
            if not info.ordering.sorts(key):
                return None
            keys.append(key)
        return tuple(keys)


def _integer(node: exp.Expr | None) -> int | None:
    value = node.args.get("expression") if node is not None else None
    if isinstance(value, exp.Literal) and not value.is_string and value.name.isdigit():
        return int(value.name)
    return None


def _changes_rows(node: exp.Expr) -> bool:
    """Whether a select-list item makes a row count differ from the scan's (aggregates, windows, unnest)."""
    return any(
        isinstance(n, exp.AggFunc | exp.Window | exp.Unnest | exp.Explode)
        or (isinstance(n, exp.Anonymous) and n.name.lower() in _SET_RETURNING)
        for n in own(node)
    )

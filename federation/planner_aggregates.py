"""The aggregate half of the planner (`federation.planner`): a grouped SELECT over one source table rewritten to
read its groups from a source of their own, which `Table.aggregate` fills (or DuckDB, over a scan, when the API
can't give exactly DuckDB's answer).

`SELECT g, count(*), sum(x) FROM t WHERE … GROUP BY g HAVING … ORDER BY …` becomes `SELECT g, agg0, agg1 FROM
<groups> AS t WHERE <having> ORDER BY …`: each aggregate becomes a column of the groups, HAVING a WHERE over
them, and everything else stays DuckDB's. Pushed only what DuckDB would answer the same way: count, count(column),
min and max (of text only where the API compares by code point), sums of integers and decimals (float sums depend
on the order of addition), averages of integers (DuckDB's own average of decimals differs between plans: sometimes
the exact quotient, sometimes the double sum divided), groups of non-float columns, text only where the API groups
by code point, and a WHERE the API applies exactly.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import pyarrow as pa
from sqlglot import exp

from federation.planner_sql import Scope, alias, clauses, exactly_pushed, own, swap, translate
from federation.predicates import negation_normal_form
from federation.statements import DIALECT
from federation.table import Aggregate, AggregateCall, AggregateRequest, Table, TableInfo, missing_filter

#: The table a fallback aggregate scans is registered under this name (on a connection of its own).
SCANNED = "__duckfed_scan"
_FUNCTIONS = {exp.Count: Aggregate.COUNT_COLUMN, exp.Sum: Aggregate.SUM, exp.Min: Aggregate.MIN, exp.Max: Aggregate.MAX}


@dataclass(frozen=True)
class Output:
    """One aggregate column of a pushed aggregate: a call the table computes, or an average of two of them."""

    name: str
    call: AggregateCall | None = None
    #: For AVG: the SUM and COUNT(column) calls it divides.
    average: tuple[AggregateCall, AggregateCall] | None = None


@dataclass(frozen=True)
class PushedAggregate:
    """The groups of one SELECT, computed by the API (or by DuckDB over a scan), registered as `name`."""

    key: str
    table: Table
    name: str
    request: AggregateRequest
    outputs: tuple[Output, ...]
    #: The same groups as SQL over a scan registered as `SCANNED`, for when the API can't compute them exactly.
    fallback: str

    @property
    def schema(self) -> pa.Schema:
        computed = self.request.schema(self.table.info)
        fields = [computed.field(name) for name in self.request.group_by]
        for output in self.outputs:
            kind = pa.float64() if output.call is None else computed.field(output.call.label).type
            fields.append(pa.field(output.name, kind))
        return pa.schema(fields)

    def read(self, scan: Callable[[Table, str], pa.RecordBatchReader]) -> pa.RecordBatchReader:
        """The groups: from `Table.aggregate`, or `scan(table, fallback)` when the table can't give them exactly."""
        schema = self.schema
        computed = self.table.aggregate(self.request)
        source = scan(self.table, self.fallback) if computed is None else computed
        finish = _cast if computed is None else self._finish

        def batches() -> Iterator[pa.RecordBatch]:
            with source:
                for batch in source:
                    yield finish(batch, schema)

        return pa.RecordBatchReader.from_batches(schema, batches())

    def _finish(self, batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
        arrays = [batch.column(name) for name in self.request.group_by]
        for output in self.outputs:
            if output.average is not None:
                total, count = (batch.column(call.label).to_pylist() for call in output.average)
                arrays.append(pa.array([_average(s, n) for s, n in zip(total, count, strict=True)], pa.float64()))
            else:
                assert output.call is not None
                arrays.append(batch.column(output.call.label))
        return _cast(pa.RecordBatch.from_arrays(arrays, names=schema.names), schema)


def _cast(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [c.cast(f.type) for c, f in zip(batch.columns, schema, strict=True)], schema=schema
    )


def _average(total: decimal.Decimal | None, count: int | None) -> float | None:
    """DuckDB's avg from an exact sum and count: the quotient correctly rounded to a double."""
    if total is None or not count:
        return None
    return float(Fraction(total) / count)


def pushed_aggregate(select: exp.Select, scope: Scope, key: str, table: Table) -> PushedAggregate | None:
    """The grouped SELECT rewritten to read its groups from a `PushedAggregate` (returned), or None, the SELECT
    untouched, when the table can't compute them exactly as DuckDB would."""
    info = scope.info
    group = select.args.get("group")
    calls = [n for e in select.expressions for n in own(e) if isinstance(n, exp.AggFunc)]
    if group is None and not calls:
        return None
    if not info.aggregates or any(_unpushable(n) for n in clauses(select)):
        return None
    if group is not None and any(group.args.get(a) for a in ("all", "rollup", "cube", "grouping_sets", "totals")):
        return None
    groups = _groups(select, scope) if group is not None else ()
    where = select.args.get("where")
    predicate = translate(where.this, scope) if where is not None else None
    if groups is None or (where is not None and (predicate is None or not exactly_pushed(predicate, info))):
        return None
    outputs: dict[tuple[AggregateCall, ...], Output] = {}
    wanted: dict[AggregateCall, None] = {}
    swaps: list[tuple[exp.AggFunc, Output]] = []
    for node in (n for clause in clauses(select) for n in own(clause) if isinstance(n, exp.AggFunc)):
        computed = _computed(node, scope)
        if computed is None:
            return None
        output = outputs.setdefault(computed, _named(computed, len(outputs)))
        wanted.update(dict.fromkeys(computed))
        swaps.append((node, output))
    if not all(_declared(info, c) for c in wanted) or not _references_groups(select, scope, groups):
        return None
    if missing_filter(info, predicate) is not None:
        return None  # the scan says which filter the API requires
    request = AggregateRequest(groups, tuple(wanted), None if predicate is None else negation_normal_form(predicate))
    ordered_outputs = tuple(outputs.values())
    fallback = _fallback_sql(select, scope, groups, ordered_outputs)
    name = swap(select, scope, key, info, repr((request, ordered_outputs)))
    for node, output in swaps:
        reference: exp.Expr = exp.column(exp.to_identifier(output.name, quoted=True), table=alias(scope))
        call = output.call
        summed_integers = call is not None and call.function is Aggregate.SUM and not _decimal(info, call)
        # DuckDB sums integers into HUGEINT; the source holds them as DECIMAL(38, 0).
        node.replace(exp.cast(reference, exp.DType.INT128) if summed_integers else reference)
    having = select.args.get("having")
    select.set("where", exp.Where(this=having.this) if having is not None else None)
    for part in ("having", "group"):
        select.set(part, None)
    return PushedAggregate(key, table, name, request, ordered_outputs, fallback)


def _groups(select: exp.Select, scope: Scope) -> tuple[str, ...] | None:
    """The GROUP BY's columns: plain columns the API groups exactly as DuckDB does, or None."""
    info = scope.info
    names: list[str] = []
    for item in select.args["group"].expressions:
        if isinstance(item, exp.Literal) and not item.is_string:
            position = int(item.name) - 1
            item = select.expressions[position] if 0 <= position < len(select.expressions) else None
            item = item.this if isinstance(item, exp.Alias) else item
        column = scope.column(item) if isinstance(item, exp.Column) else None
        if column is None or pa.types.is_floating(column.type):
            return None
        if pa.types.is_string(column.type) and (info.ordering is None or info.ordering.collation != "binary"):
            return None  # the API would merge groups DuckDB keeps apart ('Acme' and 'ACME')
        names.append(column.name)
    return tuple(dict.fromkeys(names))


def _unpushable(node: exp.Expr) -> bool:
    """Anything in a grouped SELECT the rewrite can't keep meaning the same: subqueries, windows, star, and
    functions sqlglot doesn't know (one may be an aggregate)."""
    return any(
        isinstance(n, exp.Query | exp.Subquery | exp.Window | exp.Anonymous | exp.Filter | exp.Distinct)
        or (isinstance(n, exp.Star) and not isinstance(n.parent, exp.Count))
        or (isinstance(n, exp.AggFunc) and type(n) not in (*_FUNCTIONS, exp.Avg))
        for n in own(node)
    )


def _computed(node: exp.AggFunc, scope: Scope) -> tuple[AggregateCall, ...] | None:
    """The calls the table computes for one aggregate of the query: one, or SUM and COUNT(column) for AVG."""
    argument = node.this
    if isinstance(node, exp.Count) and isinstance(argument, exp.Star):
        return (AggregateCall(Aggregate.COUNT),)
    column = scope.column(argument) if isinstance(argument, exp.Column) else None
    if column is None or any(node.args.get(a) for a in ("distinct", "order", "separator")):
        return None
    kind = column.type
    numeric = pa.types.is_integer(kind) or pa.types.is_decimal(kind)
    if isinstance(node, exp.Avg):
        if not pa.types.is_integer(kind) or Aggregate.AVG not in scope.info.aggregates:
            return None
        return AggregateCall(Aggregate.SUM, column.name), AggregateCall(Aggregate.COUNT_COLUMN, column.name)
    function = _FUNCTIONS[type(node)]
    if function is Aggregate.SUM and not numeric:
        return None  # float sums depend on the order of addition
    if function in (Aggregate.MIN, Aggregate.MAX):
        ordering = scope.info.ordering
        if pa.types.is_floating(kind) or (
            pa.types.is_string(kind) and (ordering is None or ordering.collation != "binary")
        ):
            return None
    return (AggregateCall(function, column.name),)


def _named(calls: tuple[AggregateCall, ...], index: int) -> Output:
    name = f"__duckfed_agg{index}"
    return Output(name, calls[0]) if len(calls) == 1 else Output(name, average=(calls[0], calls[1]))


def _decimal(info: TableInfo, call: AggregateCall) -> bool:
    return call.column is not None and pa.types.is_decimal(info.column(call.column).type)


def _declared(info: TableInfo, call: AggregateCall) -> bool:
    return call.function in info.aggregates


def _references_groups(select: exp.Select, scope: Scope, groups: tuple[str, ...]) -> bool:
    """Whether every column the select list, HAVING and ORDER BY read outside an aggregate is a group column (or,
    in HAVING and ORDER BY, a select alias): otherwise DuckDB reports an error the rewrite must not hide."""
    grouped = {g.lower() for g in groups}
    aliases = {e.alias.lower() for e in select.expressions if isinstance(e, exp.Alias)}
    for position, clause in enumerate(clauses(select)):
        for node in own(clause):
            if not isinstance(node, exp.Column) or node.find_ancestor(exp.AggFunc) is not None:
                continue
            column = scope.column(node)
            if column is not None and column.name.lower() in grouped:
                continue
            if position >= len(select.expressions) and not node.table and node.name.lower() in aliases:
                continue
            return False
    return True


def _fallback_sql(select: exp.Select, scope: Scope, groups: tuple[str, ...], outputs: tuple[Output, ...]) -> str:
    """The groups as DuckDB computes them over a scan of the table: exactly the pushed source's columns."""
    items: list[exp.Expr] = [exp.column(exp.to_identifier(g, quoted=True)) for g in groups]
    for output in outputs:
        call = output.call or (output.average[0] if output.average else None)
        assert call is not None
        argument: exp.Expr = (
            exp.Star() if call.column is None else exp.column(exp.to_identifier(call.column, quoted=True))
        )
        function = {Aggregate.COUNT: "count", Aggregate.COUNT_COLUMN: "count"}.get(call.function, call.function.value)
        name = "avg" if output.average is not None else function
        items.append(exp.alias_(exp.func(name, argument), output.name, quoted=True))
    query = exp.select(*items).from_(
        exp.Table(this=exp.to_identifier(SCANNED), alias=exp.TableAlias(this=alias(scope)))
    )
    where = select.args.get("where")
    if where is not None:
        query.set("where", where.copy())
    if groups:
        query = query.group_by(*(exp.column(exp.to_identifier(g, quoted=True)) for g in groups))
    return query.sql(dialect=DIALECT)

"""Running a parsed query against a catalog: the orchestration behind ``execute``.

Names are resolved and every condition, sort key and projection compiled once per query; the records are then
filtered into a list, sorted, sliced, and rendered lazily by ``Rows`` as the server reads pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from ..model import Catalog, Record
from .aggregate import AggregatePlan
from .ast import Aggregate, FieldRef, FieldsFunction, Query, SemiJoin
from .errors import SoqlError, error_at, malformed
from .ordering import SortKey, sort_rows
from .predicates import ConditionCompiler, Operand, Predicate
from .render import Rows, record_renderer
from .resolve import Path, Resolver
from .values import id15, kind_of

DEFAULT_URL_PREFIX = "/services/data/v59.0"


@dataclass(frozen=True)
class QueryResult:
    """What a query returns: the FROM object's canonical name, the row count and the JSON-ready rows.

    `total_size` counts the rows after OFFSET/LIMIT, or is the COUNT() value (then `rows` is empty). `rows` renders
    each record when read, so slicing out one page costs only that page.
    """

    object_name: str
    total_size: int
    rows: Sequence[dict[str, Any]]


def execute(
    query: Query,
    catalog: Catalog,
    *,
    include_deleted: bool = False,
    url_prefix: str = DEFAULT_URL_PREFIX,
    now: datetime | None = None,
) -> QueryResult:
    """Run `query` over `catalog`; `include_deleted` for queryAll, `now` fixes the clock for date literals (UTC)."""
    moment = now or datetime.now(UTC)
    today = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).date()
    resolver = Resolver(query, catalog)
    name = resolver.object.name
    if query.is_count:
        for item in query.order_by:  # nothing to sort, but the names must still be valid
            _sort_key(query, resolver, item.target, item.descending, item.nulls_first)
        matched = _filter(query, resolver, catalog, today, include_deleted)
        start = min(query.offset or 0, len(matched))
        stop = len(matched) if query.limit is None else min(len(matched), start + query.limit)
        return QueryResult(name, stop - start, ())
    if query.is_aggregate:
        plan = AggregatePlan(query, resolver, today)
        rows = plan.rows(_filter(query, resolver, catalog, today, include_deleted))
        return QueryResult(name, len(rows), rows)
    paths = _selected_paths(query, resolver)
    order = [_sort_key(query, resolver, item.target, item.descending, item.nulls_first) for item in query.order_by]
    matched = _filter(query, resolver, catalog, today, include_deleted)
    sort_rows(matched, order)
    start = query.offset or 0
    window = matched[start : None if query.limit is None else start + query.limit]
    return QueryResult(name, len(window), Rows(window, record_renderer(name, paths, url_prefix, resolver.lookup)))


def _filter(query: Query, resolver: Resolver, catalog: Catalog, today: date, include_deleted: bool) -> list[Record]:
    """The FROM object's records that pass WHERE, in insertion order."""
    predicate = _where(query, resolver, catalog, today)
    records = catalog.records(resolver.object.name, include_deleted=include_deleted)
    if predicate is None:
        return list(records)
    return [record for record in records if predicate(record)]


def _where(query: Query, resolver: Resolver, catalog: Catalog, today: date) -> Predicate | None:
    if query.where is None:
        return None

    def operand(target: FieldRef | Aggregate) -> Operand:
        assert isinstance(target, FieldRef)  # the parser allows aggregates only in HAVING and ORDER BY
        path = resolver.path(target)
        return Operand(path.getter, path.field, target.pos)

    def semi_join(condition: SemiJoin) -> Predicate:
        return _semi_join(condition, resolver, catalog, today)

    return ConditionCompiler(query.text, operand, today, semi_join).compile(query.where)


def _semi_join(condition: SemiJoin, outer: Resolver, catalog: Catalog, today: date) -> Predicate:
    """``field [NOT] IN (SELECT idField FROM …)``: the inner query runs once, into a set of 15-character Ids.

    The inner query reads live records only: queryAll widens the outer query, not the Ids it is matched against.
    """
    inner = condition.query
    text = inner.text
    target = outer.path(condition.target)
    if kind_of(target.field) != "id":
        # UNCONFIRMED wording for this and the checks below (the rules themselves are documented).
        raise malformed(
            text, condition.target.pos, f"semi join sub-selects are only allowed on Id fields: {target.label}"
        )
    selected = inner.select[0].expression
    if len(inner.select) != 1 or not isinstance(selected, FieldRef):
        raise malformed(text, inner.object_pos, "a semi join sub-select must select exactly one Id field")
    if inner.group_by or inner.having or inner.order_by or inner.limit is not None or inner.offset is not None:
        raise malformed(
            text,
            inner.object_pos,
            "GROUP BY, HAVING, ORDER BY, LIMIT and OFFSET are not supported in a semi join sub-select",
        )
    resolver = Resolver(inner, catalog)
    path = resolver.path(selected)
    if kind_of(path.field) != "id":
        raise malformed(text, selected.pos, f"semi join sub-selects must select an Id field, not {path.label}")
    ids = frozenset(
        id15(value) for record in _filter(inner, resolver, catalog, today, False) if (value := path.getter(record))
    )
    get = target.getter
    if condition.negated:
        return lambda record: (value := get(record)) is not None and id15(value) not in ids
    return lambda record: (value := get(record)) is not None and id15(value) in ids


def _selected_paths(query: Query, resolver: Resolver) -> list[Path]:
    """The SELECT list of a plain query as resolved paths; a field selected twice is an error."""
    paths: list[Path] = []
    for item in query.select:
        expression = item.expression
        if isinstance(expression, FieldsFunction):
            paths.extend(resolver.top_field(field, expression.pos) for field in resolver.fields_of(expression.kind))
        else:
            assert isinstance(expression, FieldRef)  # aggregates make an aggregate query
            paths.append(resolver.path(expression))
    seen: set[str] = set()
    for path in paths:
        if path.label.lower() in seen:
            # Documented, and unframed in the docs' example.
            raise SoqlError("INVALID_FIELD", f"duplicate field selected: {path.label}")
        seen.add(path.label.lower())
    return paths


def _sort_key(
    query: Query, resolver: Resolver, target: FieldRef | Aggregate, descending: bool, nulls_first: bool | None
) -> SortKey:
    if isinstance(target, Aggregate):
        raise malformed(query.text, target.pos, "aggregate functions can only be ordered in an aggregate query")
    path = resolver.path(target)
    if not path.field.sortable:
        raise error_at(
            "INVALID_FIELD", query.text, target.pos, f"field '{path.field.name}' can not be sorted in a query call"
        )
    return SortKey(path.getter, path.field, descending, nulls_first)

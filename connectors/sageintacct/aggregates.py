"""Pushed aggregates as `query` requests: `<count>`, `<sum>`, `<min>` and `<max>` beside the `<field>`s they are
grouped by, with the groups read back exactly or not at all (api-protocols.md §1.6: the plain fields are the GROUP
BY, each result element is named `FUNC.FIELD`, as `COUNT.RECORDNO`).

The planner asks only what DuckDB would answer the same way; this module refuses the rest, so the engine scans:
- a WHERE that `compile_filter` can't state exactly (a timestamp with fractions of a second, a control
  character): an aggregate's rows are never re-checked;
- groups of text (the gateway's collation is undocumented) or floats, SUM of anything but integers and decimals,
  MIN and MAX of anything but numbers and dates;
- timestamps unless the company's time zone is UTC: the gateway groups and compares wall-clock times, and a
  daylight-saving change makes distinct wall-clock times one instant, or puts them out of order;
- more groups than one page holds: `query` pages by offset, with no cursor, so groups read over several calls
  could shift between them;
- a sum with more decimals than the column's scale.
AVG is never asked: the engine divides the exact SUM by COUNT(column). COUNT(*) counts RECORDNO, which every
record has.
"""

from __future__ import annotations

import dataclasses
import decimal
import zoneinfo
from collections.abc import Mapping, Sequence

import pyarrow as pa

from connectors.sageintacct.query import compile_filter, query, states_exactly
from connectors.sageintacct.types import TIMESTAMP, batch
from federation.table import Aggregate, AggregateCall, AggregateRequest, TableInfo

_ELEMENTS = {
    Aggregate.COUNT: "count",
    Aggregate.COUNT_COLUMN: "count",
    Aggregate.SUM: "sum",
    Aggregate.MIN: "min",
    Aggregate.MAX: "max",
}
_UTC = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Zulu", "Zulu", "Etc/GMT", "GMT"})


def _numeric(kind: pa.DataType) -> bool:
    return bool(pa.types.is_integer(kind) or pa.types.is_decimal(kind))


def _exact_type(kind: pa.DataType, zone: zoneinfo.ZoneInfo) -> bool:
    """Whether the gateway groups and orders values of `kind` as DuckDB does."""
    if kind == TIMESTAMP:
        return zone.key in _UTC
    return _numeric(kind) or kind in (pa.date32(), pa.bool_())


def _computable(call: AggregateCall, info: TableInfo, zone: zoneinfo.ZoneInfo) -> bool:
    if call.function in (Aggregate.COUNT, Aggregate.COUNT_COLUMN):
        return True
    assert call.column is not None
    kind = info.column(call.column).type
    if call.function is Aggregate.SUM:
        return _numeric(kind)
    return call.function in (Aggregate.MIN, Aggregate.MAX) and kind != pa.bool_() and _exact_type(kind, zone)


def _element(call: AggregateCall, info: TableInfo) -> tuple[str, str]:
    """The `<select>` element for `call`: (function, field)."""
    column = info.column(call.column) if call.column is not None else info.column("Recordno")
    return _ELEMENTS[call.function], column.api_name


def compile_aggregate(
    obj: str, request: AggregateRequest, info: TableInfo, zone: zoneinfo.ZoneInfo, page: int
) -> str | None:
    """The `<query>` for `request` (one page of `page` groups), or None when the gateway can't compute exactly
    that (see the module's notes)."""
    if not states_exactly(request.predicate, zone):
        return None
    if not all(_exact_type(info.column(name).type, zone) for name in request.group_by):
        return None
    if not all(_computable(call, info, zone) for call in request.calls):
        return None
    field_of = {c.name: c.api_name for c in info.columns}.__getitem__
    return query(
        obj,
        [info.column(name).api_name for name in request.group_by],
        compile_filter(request.predicate, field_of, zone),
        page_size=page,
        aggregates=list(dict.fromkeys(_element(call, info) for call in request.calls)),
    )


def read_aggregate(
    rows: Sequence[Mapping[str, str | None]],
    remaining: int,
    request: AggregateRequest,
    info: TableInfo,
    zone: zoneinfo.ZoneInfo,
) -> pa.RecordBatch | None:
    """The groups of a `query` page as a batch of `request.schema(info)`, or None when they aren't all there or a
    sum isn't exact at the column's scale."""
    if remaining > 0:
        return None
    if not rows and not request.group_by:
        rows = [{}]  # DuckDB's one row over no rows: counts of 0, the rest NULL
    schema = request.schema(info)
    arrays = list(batch(rows, [info.column(name) for name in request.group_by], zone).columns)
    for call, field in zip(request.calls, schema.names[len(request.group_by) :], strict=True):
        function, name = _element(call, info)
        element = f"{function.upper()}.{name}"
        texts = [row.get(element) or None for row in rows]
        kind = schema.field(field).type
        if call.function in (Aggregate.COUNT, Aggregate.COUNT_COLUMN):
            arrays.append(pa.array([int(t or 0) for t in texts], kind))
        elif call.function is Aggregate.SUM:
            sums = _sums(texts, kind.scale)
            if sums is None:
                return None
            arrays.append(pa.array(sums, kind))
        else:
            assert call.column is not None
            read = dataclasses.replace(info.column(call.column), native_name=element)
            arrays.append(batch(rows, [read], zone).column(0))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _sums(texts: Sequence[str | None], scale: int) -> list[decimal.Decimal | None] | None:
    """The sums' values, or None when one has more decimals than `scale` or more digits than a decimal holds."""
    sums: list[decimal.Decimal | None] = []
    step = decimal.Decimal(1).scaleb(-scale)
    for text in texts:
        if text is None:
            sums.append(None)
            continue
        try:
            value = decimal.Decimal(text.strip())
            exact = value.quantize(step, context=decimal.Context(prec=80, traps=[decimal.InvalidOperation]))
        except decimal.InvalidOperation:
            return None
        if exact != value or len(exact.as_tuple().digits) > 38:
            return None
        sums.append(exact)
    return sums

"""Splitting one table's read into disjoint partitions that Spark reads in parallel.

Offsets are never used: over a table that changes while it is read, an offset range skips or repeats records
(a delete before it shifts every later record). A partition is instead a set of records named by their values:

- **key range** (tables whose `TableInfo.partitioning` says "key range" on an integer column the API can compare):
  the API gives the key's MIN and MAX (and COUNT) in one call, and the range between is cut into equal spans.
  The first span has no lower bound and the last no upper bound, so a record created meanwhile outside
  [MIN, MAX] is still read, once;
- **IN-list chunks**: a filter `column IN (…)` the API can push is cut into chunks, one partition each;
- otherwise **one scan**.

Each partition's bounds are also applied to every batch exactly (`Slice.exact`), so an API that compares more
loosely (SOQL's case-insensitive `IN`) can't put one record in two partitions. A partition also gets a budget
of API calls: twice its estimate, unless given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from federation.errors import ConfigurationError
from federation.predicates import And, Comparison, InList, Operator, Predicate
from federation.table import Aggregate, AggregateCall, AggregateRequest, Table, TableInfo

#: API pages a partition should hold at least when the count is chosen for the user: a partition costs one more
#: call than its pages (its last, short page), so fewer pages each would cost noticeably more calls in all.
PAGES_PER_PARTITION = 4
#: Partitions chosen without the `partitions` option at most.
DEFAULT_MAX_PARTITIONS = 16


@dataclass(frozen=True)
class Slice:
    """One partition: rows whose `column` lies in [lower, upper) (None: unbounded), or is one of `values`."""

    index: int
    column: str | None = None
    lower: int | None = None
    upper: int | None = None
    values: tuple[object, ...] | None = None

    def predicates(self) -> list[Predicate]:
        """The bounds as predicates for the API (a superset there; `exact` applies them exactly)."""
        if self.column is None:
            return []
        if self.values is not None:
            return [InList(self.column, self.values)]
        bounds: list[Predicate] = []
        if self.lower is not None:
            bounds.append(Comparison(self.column, Operator.GE, self.lower))
        if self.upper is not None:
            bounds.append(Comparison(self.column, Operator.LT, self.upper))
        return bounds

    def exact(self, kind: pa.DataType) -> pc.Expression | None:
        """The bounds as an Arrow expression over a column of type `kind`, or None when there are none."""
        if self.column is None:
            return None
        field = pc.field(self.column)
        if self.values is not None:
            return pc.is_in(field, value_set=pa.array(self.values, kind))
        test: pc.Expression | None = None
        if self.lower is not None:
            test = field >= pa.scalar(self.lower, kind)
        if self.upper is not None:
            below = field < pa.scalar(self.upper, kind)
            test = below if test is None else test & below
        return test


@dataclass(frozen=True)
class Plan:
    slices: tuple[Slice, ...]
    #: How the table was split, for logs and errors ("key range on id", "one scan: …").
    method: str
    #: API calls each partition may spend (None: no budget).
    budget: int | None
    estimated_rows: int | None = None


def plan(
    table: Table, predicate: Predicate | None, *, requested: int | None, cap: int | None, budget: int | None
) -> Plan:
    """Partitions for a read of `table` where `predicate` (already pushable) holds: `requested` of them, or a
    number chosen from the table's size; never more than `cap` (what the rate limit lets call at once)."""
    info = table.info
    if requested is not None and cap is not None and requested > cap:
        raise ConfigurationError(
            f"option partitions={requested} is more than the rate limit of {table.info.name!r}'s source lets "
            f"call at once: at most {cap}"
        )
    chunked = _in_list(info, predicate)
    if chunked is not None:
        column, values = chunked
        count = min(requested or len(values), len(values), cap or len(values))
        size = math.ceil(len(values) / count)
        chunks = [values[i : i + size] for i in range(0, len(values), size)]
        slices = tuple(Slice(i, column, values=chunk) for i, chunk in enumerate(chunks))
        return Plan(slices, f"{len(slices)} chunks of {column} IN (…)", budget)
    key = _range_key(info)
    if key is None:
        why = _why_one_scan(info)
        return Plan((Slice(0),), f"one scan: {why}", budget or _budget(info, None, 1))
    rows, low, high = _bounds(table, key, predicate)
    count = requested or _default_count(info, rows, cap)
    if low is None or high is None or count == 1:
        return Plan((Slice(0),), "one scan: no rows or one partition", budget or _budget(info, rows, 1), rows)
    assert isinstance(low, int) and isinstance(high, int)
    cuts = sorted({low + (high - low + 1) * i // count for i in range(1, count)} - {low})
    edges: list[int | None] = [None, *cuts, None]
    slices = tuple(Slice(i, key, edges[i], edges[i + 1]) for i in range(len(edges) - 1))
    return Plan(slices, f"key range on {key}", budget or _budget(info, rows, len(slices)), rows)


def _range_key(info: TableInfo) -> str | None:
    """The integer column to cut into ranges, when the table declares one the API compares and can give bounds."""
    partitioning = info.partitioning
    if partitioning is None or partitioning.method != "key range" or partitioning.column is None:
        return None
    column = info.column(partitioning.column)
    comparable = info.can_push(column.name, Operator.GE) and info.can_push(column.name, Operator.LT)
    bounded = {Aggregate.MIN, Aggregate.MAX} <= info.aggregates
    return column.name if comparable and bounded and pa.types.is_integer(column.type) else None


def _why_one_scan(info: TableInfo) -> str:
    partitioning = info.partitioning
    if partitioning is None:
        return f"{info.name!r} declares no way to split it"
    if partitioning.method == "offset":
        return f"{info.name!r} splits only by offsets, which skip or repeat records of a changing table"
    return f"the API can't give the bounds of {info.name!r}'s {partitioning.column or 'key'}"


def _in_list(info: TableInfo, predicate: Predicate | None) -> tuple[str, tuple[object, ...]] | None:
    """The longest top-level `column IN (…)` of `predicate` the API can push, with its values once each."""
    parts = () if predicate is None else predicate.operands if isinstance(predicate, And) else (predicate,)
    lists = [p for p in parts if isinstance(p, InList) and not p.negated and info.can_push(p.column, Operator.IN)]
    if not lists:
        return None
    longest = max(lists, key=lambda p: len(p.values))
    values = tuple(dict.fromkeys(longest.values))
    return (longest.column, values) if len(values) > 1 else None


def _bounds(table: Table, key: str, predicate: Predicate | None) -> tuple[int | None, object, object]:
    """(COUNT, MIN(key), MAX(key)) of the rows `predicate` selects, from one aggregate call."""
    counted = Aggregate.COUNT in table.info.aggregates
    calls = (
        *((AggregateCall(Aggregate.COUNT),) if counted else ()),
        AggregateCall(Aggregate.MIN, key),
        AggregateCall(Aggregate.MAX, key),
    )
    reader = table.aggregate(AggregateRequest((), calls, predicate))
    if reader is None and predicate is not None:
        # The API can't state the filter exactly: the whole table's bounds still cover every matching row.
        reader = table.aggregate(AggregateRequest((), calls, None))
    if reader is None:
        return None, None, None
    row = reader.read_all().to_pylist()[0]
    values = list(row.values())
    count = values[0] if counted else None
    return count, values[-2], values[-1]


def _default_count(info: TableInfo, rows: int | None, cap: int | None) -> int:
    if rows is None or not info.page_size:
        return 1
    pages = math.ceil(rows / info.page_size)
    return max(1, min(pages // PAGES_PER_PARTITION, cap or DEFAULT_MAX_PARTITIONS, DEFAULT_MAX_PARTITIONS))


def _budget(info: TableInfo, rows: int | None, partitions: int) -> int | None:
    """Twice the calls a partition is expected to make (its pages, its last short page, and the table list and
    description when the worker's metadata cache is cold)."""
    if rows is None or not info.page_size:
        return None
    expected = math.ceil(rows / partitions / info.page_size) + 1 + 2
    return 2 * expected

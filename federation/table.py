"""The table contract every connector implements: columns with capabilities, lazy scans, batch writes.

Capabilities are data: each `Column` says which operators it can push to the API and whether it can be
written, and the engine derives pushdown, validation, docs and the conformance suite from that.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from federation.errors import ReadOnlyError, UnknownColumnError
from federation.predicates import And, Comparison, InList, IsNull, Like, Not, Operator, Or, Predicate


@dataclass(frozen=True)
class Column:
    """One column: its Arrow type, what the API can do with it, and the API's own name for it."""

    name: str
    type: pa.DataType
    nullable: bool = True
    primary_key: bool = False
    native_name: str | None = None
    #: The API's own name for the column's type ("reference", "currency", …), for compilers and docs.
    native_type: str | None = None
    #: Operators the API evaluates as a superset of DuckDB's semantics (see `federation.predicates`).
    pushdown: frozenset[Operator] = frozenset()
    #: Whether the API applies those operators exactly (informational: the engine re-checks every row anyway).
    exact: bool = False
    #: Whether the API can order by this column (see `TableInfo.ordering` for its null order and collation).
    sortable: bool = False
    #: The API refuses a scan without a filter on this column (a Steampipe-style key column): a query must give
    #: one (`=` or `IN`), and the engine says so, naming the column, before any call.
    required_filter: bool = False
    insertable: bool = False
    updatable: bool = False
    #: Whether an insert must give a value (the API would refuse the record otherwise).
    required: bool = False
    description: str = ""

    @property
    def api_name(self) -> str:
        return self.native_name or self.name


class Aggregate(enum.Enum):
    """Aggregates an API can compute itself (the planner pushes them only where the result equals DuckDB's).

    AVG is never asked of a table: the engine divides the API's SUM by its COUNT(column) and rounds as DuckDB does,
    so a table that declares AVG must declare SUM and COUNT_COLUMN too.
    """

    COUNT = "count"
    COUNT_COLUMN = "count(column)"
    SUM = "sum"
    MIN = "min"
    MAX = "max"
    AVG = "avg"


class Deletions(enum.Enum):
    """How a sync learns which records were deleted since it last ran."""

    #: The API lists deleted records (Salesforce queryAll/getDeleted, Exact Online's Deleted sync endpoint).
    FEED = "feed"
    #: Only by reading every key and comparing (one key-only scan per sync).
    KEY_SCAN = "key scan"
    #: Records are never deleted through the API, or deletions can't be seen.
    NONE = "none"


class NullOrder(enum.Enum):
    """Where the API sorts NULLs in ascending order (descending reverses it)."""

    FIRST = "nulls first"
    LAST = "nulls last"


@dataclass(frozen=True)
class Ordering:
    """How the API sorts, groups and compares: where NULLs go and how text compares. A table that declares one
    honours `ScanRequest.order_by`; the planner pushes an order (and a GROUP BY or MIN/MAX of text) only where it
    matches DuckDB's."""

    nulls: NullOrder = NullOrder.FIRST
    #: "binary" compares text by code point as DuckDB does; anything else ("case-insensitive", a locale) doesn't.
    collation: str = "binary"
    #: Whether each sort key can say where its NULLs go (SOQL's NULLS FIRST/LAST), whatever the default.
    nulls_clause: bool = False

    def sorts(self, key: SortKey) -> bool:
        """Whether the API puts NULLs where `key` wants them."""
        if self.nulls_clause:
            return True
        first_ascending = self.nulls is NullOrder.FIRST
        return key.nulls_first == (first_ascending != key.descending)


@dataclass(frozen=True)
class SortKey:
    column: str
    descending: bool = False
    nulls_first: bool = False


@dataclass(frozen=True)
class Partitioning:
    """How a table splits into independent scans (for parallel and distributed reads)."""

    #: "key range" (by ranges of `column`), "offset" (by row offsets), or "values" (one scan per value of `column`).
    method: str
    column: str | None = None


@dataclass(frozen=True)
class TableInfo:
    """A table's name, columns and what can be done with it. Every capability here is data that the engine,
    the planner, the docs and the conformance suite read."""

    name: str
    columns: tuple[Column, ...]
    description: str = ""
    insertable: bool = False
    updatable: bool = False
    deletable: bool = False
    #: A cardinality estimate for DuckDB's optimizer, when the source knows it without a full scan.
    estimated_rows: int | None = None
    #: Rows one API page holds at most, and how many pages may be fetched at once.
    page_size: int | None = None
    max_concurrency: int = 1
    #: How many key values fit in one lookup call (URL length caps: Exact Online's 6,000 characters).
    keys_per_lookup: int | None = None
    #: Records one write call carries (Salesforce's sObject Collections 200, Intacct 100 functions a request): how
    #: EXPLAIN and MaxCalls count a write's calls before it is sent.
    records_per_write: int = 1
    #: Whether `ScanRequest.limit` makes the scan fetch less (a smaller first page, the API's own LIMIT).
    limit_pushdown: bool = False
    #: How the API sorts, for `ScanRequest.order_by` on sortable columns; None when it can't sort.
    ordering: Ordering | None = None
    aggregates: frozenset[Aggregate] = frozenset()
    #: The column the API updates on every change, for incremental sync (SystemModstamp, WHENMODIFIED, …).
    modified_column: str | None = None
    deletions: Deletions = Deletions.NONE
    partitioning: Partitioning | None = None
    #: Columns `Table.upsert` writes by: the API updates the record holding the row's value, or creates one, so a
    #: write sent twice (a retried task) leaves one record (Salesforce external-Id fields).
    upsert_keys: tuple[str, ...] = ()
    _by_lower: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_lower", {c.name.lower(): c for c in self.columns})

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in self.columns])

    @property
    def key_columns(self) -> tuple[Column, ...]:
        """The columns of the primary key, one or several (a composite key)."""
        return tuple(c for c in self.columns if c.primary_key)

    @property
    def primary_key(self) -> Column | None:
        """The key column when the key is a single column (writes by key need one), else None."""
        keys = self.key_columns
        return keys[0] if len(keys) == 1 else None

    @property
    def required_filters(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required_filter)

    def column(self, name: str) -> Column:
        """The column named `name` (case-insensitively, as DuckDB resolves names), or UnknownColumnError."""
        found = self._by_lower.get(name.lower())
        if found is None:
            raise UnknownColumnError(f"table {self.name!r} has no column {name!r}")
        return found

    def can_push(self, column: str, op: Operator) -> bool:
        found = self._by_lower.get(column.lower())
        return found is not None and op in found.pushdown


class ScanProgress:
    """Told how many records a scan will return, where the API says so with its first page (Salesforce's
    `totalSize`, Intacct's `totalcount`, Act-On's `totalCount`), so a progress bar can show how far it has come.
    This one ignores it; the engine passes one that shows it (`federation.progress`)."""

    def total(self, rows: int, part: Hashable = None) -> None:
        """The API reported `rows` records for `part` of the scan (each of several queries one scan sends: the
        scan's total is the sum of its parts' last reports)."""


NO_PROGRESS = ScanProgress()


@dataclass(frozen=True)
class ScanRequest:
    """What a scan must return: these columns in this order, at least the rows where `predicate` holds.

    `predicate` is already reduced to what the table's columns can push. `limit` is a hint: a scan may return
    more rows, never fewer than the first `limit` matching ones (in `order_by` order when that is given, which
    only names sortable columns of a table with an `ordering`).
    """

    columns: tuple[str, ...]
    predicate: Predicate | None = None
    limit: int | None = None
    order_by: tuple[SortKey, ...] = ()
    #: The row count the last full scan of the table found, given only when this request is a full scan too (no
    #: predicate, no limit): a scan that pages by offset may ask for its first pages together instead of waiting
    #: for the first to say how many follow. A hint: the table may have changed since.
    known_rows: int | None = field(default=None, compare=False)
    #: Where the scan reports the row total the API gives with its first page, for progress bars.
    progress: ScanProgress = field(default=NO_PROGRESS, compare=False, repr=False)


@dataclass(frozen=True)
class AggregateCall:
    """One aggregate over one column (`column` is None only for COUNT, which counts rows)."""

    function: Aggregate
    column: str | None = None

    @property
    def label(self) -> str:
        """The result column's name: `count(*)`, `sum(Amount)`, …"""
        name = self.function.value.removesuffix("(column)")
        return f"{name}({self.column or '*'})"


@dataclass(frozen=True)
class AggregateRequest:
    """What `Table.aggregate` computes: one row per distinct combination of the `group_by` columns' values (NULL
    forming its own group) among the rows where `predicate` holds, or a single row without `group_by` (even over
    no rows). `predicate` must be applied exactly: nothing re-checks an aggregate's rows."""

    group_by: tuple[str, ...]
    calls: tuple[AggregateCall, ...]
    predicate: Predicate | None = None

    def schema(self, info: TableInfo) -> pa.Schema:
        """The result's columns: each group column as the table types it, then one per call named by its `label`:
        counts as int64, sums as decimal128(38, the column's scale) (DuckDB sums integers into HUGEINT), MIN and MAX
        as the column's type."""
        fields = [pa.field(info.column(name).name, info.column(name).type) for name in self.group_by]
        for call in self.calls:
            fields.append(pa.field(call.label, _result_type(info, call)))
        return pa.schema(fields)


def _result_type(info: TableInfo, call: AggregateCall) -> pa.DataType:
    if call.function in (Aggregate.COUNT, Aggregate.COUNT_COLUMN):
        return pa.int64()
    assert call.column is not None
    kind = info.column(call.column).type
    if call.function is Aggregate.SUM:
        return pa.decimal128(38, kind.scale if pa.types.is_decimal(kind) else 0)
    if call.function in (Aggregate.MIN, Aggregate.MAX):
        return kind
    raise ValueError(f"{call.function.value} is computed by the engine, not asked of a table")


def _sql(predicate: Predicate) -> str:
    """A predicate as SQL-like text, for descriptions."""
    match predicate:
        case And(operands=parts) | Or(operands=parts):
            word = " AND " if isinstance(predicate, And) else " OR "
            return "(" + word.join(_sql(p) for p in parts) + ")"
        case Not(operand=operand):
            return f"NOT {_sql(operand)}"
        case Comparison(column=column, op=op, value=value):
            return f"{column} {op.value} {value!r}"
        case InList(column=column, values=values):
            return f"{column} {predicate.op.value} ({', '.join(map(repr, values))})"
        case IsNull(column=column):
            return f"{column} {predicate.op.value}"
        case Like(column=column):
            return f"{column} LIKE {predicate.spelled(lambda text: text)!r}"
    raise TypeError(f"not a predicate: {predicate!r}")


def missing_filter(info: TableInfo, predicate: Predicate | None) -> str | None:
    """The first column the API requires a filter on (`Column.required_filter`) that `predicate` does not pin with
    `=` or `IN` in one of its top-level conjuncts, or None."""
    parts: tuple[Predicate, ...] = (
        () if predicate is None else predicate.operands if isinstance(predicate, And) else (predicate,)
    )
    pinned = {
        p.column.lower()
        for p in parts
        if (isinstance(p, Comparison) and p.op is Operator.EQ) or (isinstance(p, InList) and not p.negated)
    }
    return next((c.name for c in info.required_filters if c.name.lower() not in pinned), None)


def write_calls(info: TableInfo, records: int) -> int:
    """The API calls a write of `records` records takes, `TableInfo.records_per_write` to a call."""
    return -(-records // max(1, info.records_per_write))


@dataclass(frozen=True)
class WriteResult:
    """How many records the API changed, and for inserts the keys it assigned, in input order."""

    count: int
    keys: tuple[object, ...] = ()


class Table(abc.ABC):
    """One table of a source. Scans are lazy: one Arrow batch per API page, schema fixed up front."""

    @property
    @abc.abstractmethod
    def info(self) -> TableInfo: ...

    @abc.abstractmethod
    def scan(self, request: ScanRequest) -> pa.RecordBatchReader:
        """A reader whose schema is exactly `request.columns`, pulling API pages only as batches are read."""

    def aggregate(self, request: AggregateRequest) -> pa.RecordBatchReader | None:
        """The grouped rows of `request` (schema `request.schema(self.info)`) computed by the API, or None when it
        can't give exactly DuckDB's answer (a value its query language can't state exactly, more groups than it
        returns): the engine then aggregates a scan. Asked only for aggregates `TableInfo.aggregates` lists."""
        return None

    def expected_calls(self, request: ScanRequest, rows: int | None) -> int | None:
        """The calls a scan of `request` takes when the table holds `rows` records (None: not known), for EXPLAIN:
        the rows it needs (the limit, else `rows`, else `TableInfo.estimated_rows`) over the page size. A filter the
        API applies can only make it fewer. A connector that reads another way (a bulk job) says so here."""
        info = self.info
        table = rows if rows is not None else info.estimated_rows
        needed = table if request.limit is None else min(request.limit, table or request.limit)
        if needed is None or not info.page_size:
            return None
        return max(1, -(-needed // info.page_size))

    def describe_request(self, request: ScanRequest | AggregateRequest) -> str:
        """The API request a scan or an aggregate will make, for EXPLAIN (no call is made): connectors name their
        own (the SOQL text, the URL)."""
        if isinstance(request, AggregateRequest):
            calls = ", ".join(call.label for call in request.calls) or "(none)"
            head = f"aggregate {self.info.name}: {calls}" + (
                f" grouped by {', '.join(request.group_by)}" if request.group_by else ""
            )
        else:
            head = f"scan {self.info.name}: {', '.join(request.columns) or '(no columns)'}"
            if request.order_by:
                keys = (f"{k.column} {'DESC' if k.descending else 'ASC'}" for k in request.order_by)
                head += f" ordered by {', '.join(keys)}"
            if request.limit is not None:
                head += f" limit {request.limit}"
        return head + (f" where {_sql(request.predicate)}" if request.predicate is not None else "")

    def insert(self, rows: pa.Table) -> WriteResult:
        """Create one record per row; `rows` holds only columns of this table."""
        raise ReadOnlyError(f"table {self.info.name!r} does not support INSERT")

    def update(self, keys: Sequence[object], values: pa.Table) -> WriteResult:
        """Set `values` (one row per key, same order) on the records with these primary keys."""
        raise ReadOnlyError(f"table {self.info.name!r} does not support UPDATE")

    def delete(self, keys: Sequence[object]) -> WriteResult:
        """Delete the records with these primary keys."""
        raise ReadOnlyError(f"table {self.info.name!r} does not support DELETE")

    def upsert(self, key: str, rows: pa.Table) -> WriteResult:
        """Write each row to the record whose column `key` (one of `TableInfo.upsert_keys`) holds the row's value,
        creating it when there is none; `rows` holds `key` and other columns of this table."""
        raise ReadOnlyError(f"table {self.info.name!r} has no external key to upsert by")

"""The one module that speaks DuckDB's private Arrow source protocol (`duckdb._sources`).

DuckDB asks a registered source, once per WHERE conjunct, whether it `accepts` a predicate; an accepted one is
never re-checked by DuckDB, so it must hold exactly for every row the stream yields. We accept a predicate when
(a) DuckDB's own `to_arrow` translates it to an exact pyarrow expression and (b) some part of it can narrow the
API request. The stream then asks the connector for the pushable superset and applies the exact expression to
every batch, so results with pushdown equal results without it, whatever the API's semantics.

Everything outside this module speaks `federation.predicates`; `tests/federation/test_duckdb_protocol.py` pins
the behaviour relied on here so that a DuckDB upgrade that changes it fails loudly.

A stream's error is recorded in the connection's `federation.failures.Failures`, since DuckDB reports an
exception raised in a stream as its own error quoting the text; the connection's side of the way back, DuckDB's
results wrapped so that whichever method reads them raises duckfed's error, is `federation.relation`
(`tests/federation/test_errors.py` pins both).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Iterator, Sequence

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from duckdb._sources import ArrowScanSource
from duckdb._sources.nodes import Binary, Col, In, Lit, Node, Postfix, Unary, Untranslatable, exact_value
from duckdb._sources.to_arrow import to_arrow

from federation.cancel import Statement, within
from federation.errors import Error, Interrupted, MissingFilterError, StaleMetadata
from federation.failures import CTRL_C, Failures
from federation.planner import ScanHint
from federation.planner_aggregates import SCANNED, PushedAggregate
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
    conjunction,
    pushable,
)
from federation.progress import ScanMeter
from federation.table import NO_PROGRESS, ScanRequest, Table, missing_filter

_COMPARISONS = {op.value: op for op in (Operator.EQ, Operator.NE, Operator.LT, Operator.LE, Operator.GT, Operator.GE)}
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def translate(node: Node) -> Predicate:
    """Our predicate for a DuckDB filter node, or `Untranslatable`."""
    match node:
        case Binary(op="AND" | "OR" as op, left=left, right=right):
            kind = And if op == "AND" else Or
            parts: list[Predicate] = []
            for side in (translate(left), translate(right)):
                parts.extend(side.operands if isinstance(side, kind) else (side,))
            return kind(tuple(parts))
        case Unary(op="NOT", operand=operand):
            return Not(translate(operand))
        case Postfix(op="IS NULL" | "IS NOT NULL" as op, operand=Col(parts=(name,))):
            return IsNull(name, negated=op == "IS NOT NULL")
        case Binary(op=op, left=Col(parts=(name,)), right=Lit() as constant) if op in _COMPARISONS:
            return Comparison(name, _COMPARISONS[op], _value(constant))
        case In(operand=Col(parts=(name,)), values=values) if values:
            return InList(name, tuple(_value(v) for v in values))
    raise Untranslatable(node)


def _value(node: Node) -> object:
    if not isinstance(node, Lit) or node.value is None or not exact_value(node):
        raise Untranslatable(node)
    if node.type == "TIMESTAMP WITH TIME ZONE":
        assert isinstance(node.value, int)
        return _EPOCH + datetime.timedelta(microseconds=node.value)
    return node.value


class _Reporting(ArrowScanSource):
    """A source registered under `name` whose errors reach the statement that read it (see `Failures`)."""

    schema_is_stable = True

    def __init__(
        self,
        obj: object,
        *,
        name: str,
        failures: Failures,
        statement: Statement | None = None,
        stale: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(obj)
        self.name = name
        self.failures = failures
        #: The statements of the cursor this source is registered on (`federation.cancel`): the scan's calls, on
        #: DuckDB's threads and the download threads they start, are part of that cursor's running statement.
        self.statement = statement
        #: Called when the API rejects a field the metadata lists, so the next statement describes it again.
        self.stale = stale

    def stream(self, columns: Sequence[int] | None, filters: Sequence[Node]) -> tuple[object, bool]:
        try:
            with within(self.statement):
                return self._stream(columns, filters)
        except Error as error:
            self._record(error)
            raise
        except KeyboardInterrupt:
            raise self._interrupt() from None

    def _stream(self, columns: Sequence[int] | None, filters: Sequence[Node]) -> tuple[object, bool]:
        raise NotImplementedError

    def _record(self, error: Error) -> None:
        if isinstance(error, StaleMetadata):
            self.stale()
        self.failures.record(self.name, error)

    def _interrupt(self) -> Interrupted:
        """Ctrl-C arrived while this stream ran on the main thread: stop the statement's other waits too."""
        error = Interrupted(CTRL_C)
        if self.statement is not None:
            self.statement.token.cancel(error.message)
        self.failures.record(self.name, error)
        return error

    def _reported(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """`batches`, each read as the cursor's statement: DuckDB's threads serve every cursor, so the statement is
        set around each read, never across a `yield`."""
        try:
            while True:
                with within(self.statement):
                    batch = next(batches, None)
                if batch is None:
                    return
                yield batch
        except Error as error:
            self._record(error)
            raise
        except KeyboardInterrupt:
            raise self._interrupt() from None
        finally:
            close = getattr(batches, "close", None)
            if close is not None:  # DuckDB stopped reading (a LIMIT): the scan stops its downloads now
                with within(self.statement):
                    close()


class TableSource(_Reporting):
    """A connector table as a DuckDB scan source, registered under `name`; with a `hint` (from the planner), the
    scan also asks the API for only the first rows in an order, when DuckDB pushes the filters planned for; with
    `narrowing` (patterns DuckDB keeps evaluating above the scan, from the planner) it pushes those too."""

    def __init__(
        self,
        table: Table,
        *,
        name: str,
        pushdown: bool,
        failures: Failures,
        statement: Statement | None = None,
        stale: Callable[[], None] = lambda: None,
        hint: ScanHint | None = None,
        narrowing: tuple[Predicate, ...] = (),
        fetch: Callable[[Table, ScanRequest], pa.RecordBatchReader] | None = None,
        known_rows: int | None = None,
        counted: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(table, name=name, failures=failures, statement=statement, stale=stale)
        self.table = table
        self.pushdown = pushdown
        self.hint = hint
        #: Predicates the statement implies for every row this scan feeds, pushed beside what DuckDB accepts
        #: (a superset is enough: DuckDB still evaluates them, never having offered them to `accepts`).
        self.narrowing = narrowing
        #: What reads the table instead of `Table.scan` (a join's keyed side, `federation.keyed`).
        self.fetch = fetch
        #: The row count the last full scan found (`Connector.row_count`), and where a full scan reports it.
        self.known_rows = known_rows
        self.counted = counted
        self._schema = table.info.schema
        #: While EXPLAIN plans a statement, the pushable part of each predicate accepted (None: not recording).
        self.accepted: list[Predicate] | None = None

    def __arrow_c_schema__(self) -> object:
        return self._schema.__arrow_c_schema__()

    def rows(self) -> int | None:
        return self.known_rows if self.known_rows is not None else self.table.info.estimated_rows

    def accepts(self, predicate: Node) -> bool:
        if not self.pushdown:
            return False
        try:
            to_arrow(predicate, self._schema)
            ours = translate(predicate)
        except Untranslatable:
            return False
        part = pushable(ours, self.table.info.can_push)
        if part is not None and self.accepted is not None:
            self.accepted.append(part)
        return part is not None

    def _stream(self, columns: Sequence[int] | None, filters: Sequence[Node]) -> tuple[object, bool]:
        names = self._schema.names
        wanted = list(names) if columns is None else [names[i] for i in columns]
        exact: pc.Expression | None = None
        given: list[Predicate] = []
        pushed: list[Predicate] = []
        read: set[str] = set()
        for node in filters:
            term = to_arrow(node, self._schema)
            exact = term if exact is None else exact & term
            ours = translate(node)
            given.append(ours)
            read.update(columns_of(ours))
            part = pushable(ours, self.table.info.can_push)
            if part is not None:
                pushed.append(part)
        pushed.extend(p for p in self.narrowing if pushable(p, self.table.info.can_push) is not None)
        # The exact filter runs before narrowing, so the scan also returns the columns it reads.
        needed = wanted + [n for n in names if n in read and n not in wanted]
        predicate = conjunction(pushed)
        missing = missing_filter(self.table.info, predicate)
        if missing is not None:
            how = "" if self.pushdown else " (and Pushdown=false sends none)"
            raise MissingFilterError(
                f"table {self.table.info.name!r} can only be read with a filter on {missing!r}{how}: add "
                f"WHERE {missing} = … or {missing} IN (…)"
            )
        progress = self.failures.progress
        meter = progress.scan(self.table.info.name) if progress is not None else None
        request = ScanRequest(tuple(needed), predicate, progress=meter or NO_PROGRESS)
        if self.hint is not None and self.hint.applies(given, self.table.info):
            request = dataclasses.replace(request, limit=self.hint.limit, order_by=self.hint.order_by)
        if predicate is None and request.limit is None and self.fetch is None:
            request = dataclasses.replace(request, known_rows=self.known_rows)
        reader = self.table.scan(request) if self.fetch is None else self.fetch(self.table, request)
        if self.counted is not None and self.fetch is None and predicate is None and request.limit is None:
            reader = _counting(reader, self._count)
        schema = pa.schema([self._schema.field(n) for n in wanted])
        batches = self._reported(_filtered(reader, exact, wanted, len(needed) != len(wanted), meter))
        return pa.RecordBatchReader.from_batches(schema, batches).__arrow_c_stream__(), True

    def _count(self, rows: int) -> None:
        self.known_rows = rows
        if self.counted is not None:
            self.counted(rows)


def _counting(reader: pa.RecordBatchReader, counted: Callable[[int], None]) -> pa.RecordBatchReader:
    """`reader`, passed through; `counted(rows)` once it has been read to its end (a scan closed early says
    nothing of the table's size)."""

    def batches() -> Iterator[pa.RecordBatch]:
        rows = 0
        with reader:
            for batch in reader:
                rows += batch.num_rows
                yield batch
        counted(rows)

    return pa.RecordBatchReader.from_batches(reader.schema, batches())


def _filtered(
    reader: pa.RecordBatchReader,
    exact: pc.Expression | None,
    wanted: list[str],
    narrow: bool,
    meter: ScanMeter | None = None,
) -> Iterator[pa.RecordBatch]:
    try:
        for batch in reader:
            if meter is not None:
                meter.page(batch.num_rows)  # as the API sent it, before the exact filter: as its total counts
            if exact is not None:
                batch = batch.filter(exact)
            if narrow:
                batch = batch.select(wanted)
            yield batch
    finally:
        reader.close()


class AggregateSource(_Reporting):
    """The groups of a pushed aggregate (`federation.planner.PushedAggregate`) as a DuckDB source: computed by
    the API, or by DuckDB over a scan of the table when the API can't give exactly DuckDB's answer."""

    def __init__(
        self,
        pushed: PushedAggregate,
        *,
        pushdown: bool,
        failures: Failures,
        statement: Statement | None = None,
        stale: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(pushed, name=pushed.name, failures=failures, statement=statement, stale=stale)
        self.pushed = pushed
        self.pushdown = pushdown
        self._schema = pushed.schema

    def __arrow_c_schema__(self) -> object:
        return self._schema.__arrow_c_schema__()

    def _stream(self, columns: Sequence[int] | None, filters: Sequence[Node]) -> tuple[object, bool]:
        reader = self.pushed.read(self._scanned)
        return pa.RecordBatchReader.from_batches(self._schema, self._reported(iter(reader))).__arrow_c_stream__(), False

    def _scanned(self, table: Table, sql: str) -> pa.RecordBatchReader:
        """`sql` run by DuckDB over a scan of `table` registered as `planner.SCANNED`, on a connection of its own."""
        failures = Failures(self.failures.progress)
        with duckdb.connect() as duck:
            scan = TableSource(table, name=SCANNED, pushdown=self.pushdown, failures=failures, statement=self.statement)
            register(duck, scan)
            try:
                result = duck.sql(sql).to_arrow_table()
                assert result is not None  # a SELECT has rows
            except duckdb.Error as error:
                ours = failures.raised(error)
                if ours is None:
                    raise
                raise ours from None
        return result.to_reader()


def register(connection: duckdb.DuckDBPyConnection, source: _Reporting) -> None:
    """Register `source` on `connection` under its name (connection-local, like DuckDB's own `register`)."""
    connection._register_arrow_source(source.name, source)

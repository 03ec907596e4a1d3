"""The one module that speaks DuckDB's private Arrow source protocol (`duckdb._sources`).

DuckDB asks a registered source, once per WHERE conjunct, whether it `accepts` a predicate; an accepted one is
never re-checked by DuckDB, so it must hold exactly for every row the stream yields. We accept a predicate when
(a) DuckDB's own `to_arrow` translates it to an exact pyarrow expression and (b) some part of it can narrow the
API request. The stream then asks the connector for the pushable superset and applies the exact expression to
every batch, so results with pushdown equal results without it, whatever the API's semantics.

Everything outside this module speaks `federation.predicates`; `tests/federation/test_duckdb_protocol.py` pins
the behaviour relied on here so that a DuckDB upgrade that changes it fails loudly.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
from duckdb._sources import ArrowScanSource
from duckdb._sources.nodes import Binary, Col, In, Lit, Node, Postfix, Unary, Untranslatable, exact_value
from duckdb._sources.to_arrow import to_arrow

from federation.errors import Error
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
from federation.table import ScanRequest, Table

if TYPE_CHECKING:
    import duckdb

_COMPARISONS = {op.value: op for op in (Operator.EQ, Operator.NE, Operator.LT, Operator.LE, Operator.GT, Operator.GE)}
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


class Failures:
    """The last error a stream raised on a connection, so the connection can re-raise it instead of DuckDB's
    wrapper (DuckDB turns any Python exception in a stream into a generic InvalidInputException)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: Error | None = None

    def record(self, error: Error) -> None:
        with self._lock:
            self._last = error

    def take(self) -> Error | None:
        with self._lock:
            error, self._last = self._last, None
        return error


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


class TableSource(ArrowScanSource):
    """A connector table as a DuckDB scan source."""

    schema_is_stable = True

    def __init__(self, table: Table, *, pushdown: bool, failures: Failures) -> None:
        super().__init__(table)
        self.table = table
        self.pushdown = pushdown
        self.failures = failures
        self._schema = table.info.schema

    def __arrow_c_schema__(self) -> object:
        return self._schema.__arrow_c_schema__()

    def rows(self) -> int | None:
        return self.table.info.estimated_rows

    def accepts(self, predicate: Node) -> bool:
        if not self.pushdown:
            return False
        try:
            to_arrow(predicate, self._schema)
            ours = translate(predicate)
        except Untranslatable:
            return False
        return pushable(ours, self.table.info.can_push) is not None

    def stream(self, columns: Sequence[int] | None, filters: Sequence[Node]) -> tuple[object, bool]:
        names = self._schema.names
        wanted = list(names) if columns is None else [names[i] for i in columns]
        exact: pc.Expression | None = None
        pushed: list[Predicate] = []
        read: set[str] = set()
        for node in filters:
            term = to_arrow(node, self._schema)
            exact = term if exact is None else exact & term
            ours = translate(node)
            read.update(columns_of(ours))
            part = pushable(ours, self.table.info.can_push)
            if part is not None:
                pushed.append(part)
        # The exact filter runs before narrowing, so the scan also returns the columns it reads.
        needed = wanted + [n for n in names if n in read and n not in wanted]
        predicate = conjunction(pushed)
        reader = self.table.scan(ScanRequest(tuple(needed), predicate))
        schema = pa.schema([self._schema.field(n) for n in wanted])
        batches = self._batches(reader, exact, wanted, len(needed) != len(wanted))
        return pa.RecordBatchReader.from_batches(schema, batches).__arrow_c_stream__(), True

    def _batches(
        self, reader: pa.RecordBatchReader, exact: pc.Expression | None, wanted: list[str], narrow: bool
    ) -> Iterator[pa.RecordBatch]:
        try:
            for batch in reader:
                if exact is not None:
                    batch = batch.filter(exact)
                if narrow:
                    batch = batch.select(wanted)
                yield batch
        except Error as error:
            self.failures.record(error)
            raise
        finally:
            reader.close()


def register(connection: duckdb.DuckDBPyConnection, view_name: str, source: TableSource) -> None:
    """Register `source` on `connection` under `view_name` (connection-local, like DuckDB's own `register`)."""
    connection._register_arrow_source(view_name, source)

"""The two sides of a join by key (`federation.planner_joins`) as DuckDB sources: the driving side's rows, read
once per statement, and the scan of the other side by the keys those rows hold.

The driving side is read when either source is first streamed (DuckDB may build either side of the hash join
first), under a lock, and kept until the statement's sources are dropped. The keyed scan then sends the distinct
non-NULL keys as `column IN (…)`, in chunks of `TableInfo.keys_per_lookup` (connectors without one split long
lists themselves, as the Salesforce one does by URL length), one scan per chunk, read one after the other: a
row has one key, so the chunks' rows never repeat. When the keys would cost more calls than scanning the table
(`worth_keying`), the table is scanned as if there were no join.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from federation.bridge import TableSource, _Reporting, register
from federation.cancel import Statement, current_statement
from federation.failures import Failures
from federation.planner_joins import DRIVEN_SCAN, JoinDriver, KeyedScan
from federation.predicates import And, InList, Predicate
from federation.table import ScanRequest, Table, TableInfo

#: Keys sent at most when the table's size is unknown (no `TableInfo.estimated_rows`): past this many, a scan is
#: as likely to be cheaper as the lookups.
MAX_KEYS = 2000


class DriverRows:
    """The rows of a `JoinDriver`, read on first use and kept."""

    def __init__(self, driver: JoinDriver) -> None:
        self.driver = driver
        self._lock = threading.Lock()
        self._rows: pa.Table | None = None

    def rows(self) -> pa.Table:
        with self._lock:
            if self._rows is None:
                self._rows = _read(self.driver)
            return self._rows

    def keys(self, column: str) -> list[object]:
        """The distinct non-NULL values of `column`, in first-seen order."""
        values = pc.drop_null(self.rows().column(column))
        return list(dict.fromkeys(values.to_pylist()))


def _read(driver: JoinDriver) -> pa.Table:
    """The driver's SQL run by DuckDB over a scan of its table, on a connection of its own."""
    failures = Failures()
    with duckdb.connect() as duck:
        register(
            duck,
            TableSource(
                driver.table,
                name=DRIVEN_SCAN,
                pushdown=True,
                failures=failures,
                narrowing=driver.narrowing,
                statement=current_statement(),  # its scan is part of the statement that reads the driver
            ),
        )
        try:
            result = duck.sql(driver.sql).to_arrow_table()
            assert result is not None  # a SELECT has rows
        except duckdb.Error as error:
            ours = failures.raised(error)
            if ours is None:
                raise
            raise ours from None
    return result


class DriverSource(_Reporting):
    """The driving side as DuckDB's scan reads it: the kept rows, every filter left to DuckDB."""

    def __init__(
        self,
        rows: DriverRows,
        *,
        failures: Failures,
        statement: Statement | None = None,
        stale: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(rows, name=rows.driver.name, failures=failures, statement=statement, stale=stale)
        self.driver_rows = rows
        # The statement reads only these columns of the side (an unqualified name of the other side's resolves to
        # that side, never to a column left out here).
        full = rows.driver.table.info.schema
        self._schema = pa.schema([full.field(name) for name in rows.driver.columns or full.names])

    def __arrow_c_schema__(self) -> object:
        return self._schema.__arrow_c_schema__()

    def accepts(self, predicate: Any) -> bool:
        return False  # DuckDB filters the kept rows itself

    def _stream(self, columns: Sequence[int] | None, filters: Sequence[Any]) -> tuple[object, bool]:
        rows = self.driver_rows.rows()
        names = self._schema.names
        wanted = list(names) if columns is None else [names[i] for i in columns]
        return rows.select(wanted).to_reader().__arrow_c_stream__(), True


def worth_keying(info: TableInfo, keys: int, rows: int | None = None) -> bool:
    """Whether fetching `keys` keys (one call per chunk, at least) costs fewer calls than scanning the table of
    `rows` rows (the count a full scan last found, else `TableInfo.estimated_rows`; unknown: up to `MAX_KEYS`)."""
    chunk = info.keys_per_lookup or keys or 1
    lookups = math.ceil(keys / chunk)
    size = rows if rows is not None else info.estimated_rows
    if size is not None and info.page_size:
        return lookups < max(1, math.ceil(size / info.page_size))
    return keys <= MAX_KEYS


class KeyedFetch:
    """What the keyed side's `TableSource` calls instead of `Table.scan`: scans by the driver's keys."""

    def __init__(self, scan: KeyedScan, rows: DriverRows, size: int | None = None) -> None:
        self.scan = scan
        self.rows = rows
        #: The keyed table's row count as a full scan last found it, if one did.
        self.size = size

    def __call__(self, table: Table, request: ScanRequest) -> pa.RecordBatchReader:
        keys = self.rows.keys(self.scan.driver_column)
        info = table.info
        if not worth_keying(info, len(keys), self.size):
            return table.scan(request)
        schema = pa.schema([info.schema.field(name) for name in request.columns])
        chunk = info.keys_per_lookup or len(keys) or 1
        requests = [
            ScanRequest(request.columns, _with(request.predicate, InList(self.scan.column, tuple(keys[i : i + chunk]))))
            for i in range(0, len(keys), chunk)
        ]
        return pa.RecordBatchReader.from_batches(schema, _chained(table, requests))

    def describe(self, info: TableInfo) -> str:
        """How the keys are sent, for EXPLAIN (their number is known only once the driver's rows are read)."""
        per = f"{info.keys_per_lookup} keys" if info.keys_per_lookup else "as many keys as the API takes"
        return (
            f"and {self.scan.column} IN (each {self.scan.driver_column} of the join's other side): one call per "
            f"{per}, none without keys; a scan instead past {MAX_KEYS} keys or the table's own page count"
        )


def _with(predicate: Predicate | None, keys: InList) -> Predicate:
    if predicate is None:
        return keys
    return And((*(predicate.operands if isinstance(predicate, And) else (predicate,)), keys))


def _chained(table: Table, requests: list[ScanRequest]) -> Iterator[pa.RecordBatch]:
    """The scans' batches one after the other; each scan starts only once the last is read (a LIMIT stops it)."""
    for request in requests:
        reader = table.scan(request)
        try:
            yield from reader
        finally:
            reader.close()

"""The write side of the Spark data source: upserts by an external key, in batches, safe when Spark re-runs a task.

Spark re-runs a failed task from its first row, and a record created before the failure would be created again
by a plain insert. So a write goes only to a table with an external key (`TableInfo.upsert_keys`): each batch
upserts by it, and a batch sent twice leaves the records it wrote the first time, updated to the same values.
A table without one is refused on the driver, before any task starts. As for reads, executors call the API with
an access token minted on the driver (`federation.handoff`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
from pyspark.sql.datasource import DataSourceArrowWriter, WriterCommitMessage
from pyspark.sql.types import StructType

from federation.errors import ConfigurationError, IntegrityError, NotSupportedError
from federation.handoff import AccessGrant, max_parts
from federation.registry import connector_class, open_source
from federation.spark.options import WriteOptions
from federation.table import Table, TableInfo

#: Rows per upsert call when the table names no write batch (Salesforce's sObject Collections take 200).
DEFAULT_BATCH = 200


@dataclass
class Written(WriterCommitMessage):
    """What one task wrote: the records the API created or updated."""

    records: int


class DuckfedWriter(DataSourceArrowWriter):
    def __init__(self, options: WriteOptions, schema: StructType, *, overwrite: bool) -> None:
        if overwrite:
            raise NotSupportedError(
                'duckfed writes upsert records by an external key and never delete: use .mode("append"), not overwrite'
            )
        self.table_name = options.table
        self.batch_size = options.batch_size or DEFAULT_BATCH
        connector = open_source(options.url)
        try:
            self.info: TableInfo = connector.table(options.table).info
            self.key = _key(self.info, options.key)
            self.columns = _columns(self.info, schema, self.key)
            self.frame_columns = tuple(schema.fieldNames())
            limit = connector.http.limiter.limit if connector.http and connector.http.limiter else None
            # Spark decides how many tasks run at once: share the limit as if the most it allows were running.
            self.grant: AccessGrant = connector.export_access(workers=(max_parts(limit) or 1) if limit else 1)
        finally:
            connector.close()
        self.total = 0

    def write(self, iterator: Iterator[pa.RecordBatch]) -> Written:
        connector = connector_class(self.grant.scheme).from_access(self.grant)
        written = 0
        try:
            table = connector.table(self.table_name)
            target = pa.schema([pa.field(name, self.info.column(name).type) for name in self.columns])
            pending: list[pa.RecordBatch] = []
            size = 0
            for batch in iterator:
                rows = (
                    pa.Table.from_batches([batch]).select(list(self.frame_columns)).rename_columns(list(self.columns))
                )
                for piece in rows.cast(target).to_batches(max_chunksize=self.batch_size):
                    pending.append(piece)
                    size += piece.num_rows
                    if size >= self.batch_size:
                        written += self._send(table, pending)
                        pending, size = [], 0
            if pending:
                written += self._send(table, pending)
        finally:
            connector.close()
        return Written(written)

    def _send(self, table: Table, batches: list[pa.RecordBatch]) -> int:
        rows = pa.Table.from_batches(batches)
        missing = rows.column(self.key).null_count
        if missing:
            raise IntegrityError(f"{missing} rows have no {self.key!r}: every row upserts by it")
        return table.upsert(self.key, rows).count

    def commit(self, messages: list[WriterCommitMessage | None]) -> None:
        self.total = sum(m.records for m in messages if isinstance(m, Written))


def _key(info: TableInfo, given: str | None) -> str:
    """The external key to upsert by: the one given, or the table's only one."""
    if not info.upsert_keys:
        raise NotSupportedError(
            f"table {info.name!r} has no external key to upsert by, and Spark re-runs failed tasks: a plain insert "
            "could create records twice, so duckfed does not write it from Spark"
        )
    if given is None:
        if len(info.upsert_keys) > 1:
            raise ConfigurationError(
                f"table {info.name!r} has several external keys ({', '.join(info.upsert_keys)}): choose one with "
                '.option("key", …)'
            )
        return info.upsert_keys[0]
    found = next((k for k in info.upsert_keys if k.lower() == given.lower()), None)
    if found is None:
        raise ConfigurationError(
            f"option key={given!r}: table {info.name!r} can upsert only by {', '.join(info.upsert_keys)}"
        )
    return found


def _columns(info: TableInfo, schema: StructType, key: str) -> tuple[str, ...]:
    """The table's columns the DataFrame holds (every one must be one the API lets a write set), key included."""
    names = tuple(info.column(name).name for name in schema.fieldNames())
    if key not in names:
        raise ConfigurationError(f"the DataFrame has no column {key!r}, the external key it upserts by")
    fixed = [n for n in names if n != key and not (info.column(n).insertable or info.column(n).updatable)]
    if fixed:
        raise ConfigurationError(f"table {info.name!r} can't be written in column(s) {', '.join(fixed)}")
    return names

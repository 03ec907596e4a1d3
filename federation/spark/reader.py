"""The read side of the Spark data source: planning on the driver, partitions read on executors.

On the driver (`DuckfedReader.__init__`, `pushFilters`, `partitions`) the source is opened once with the user's
URL: its table is described, Spark's filters are translated and reduced to what the API can push, the table is
split (`federation.spark.partitions`), and an access token is minted and packed into an `AccessGrant` with each
partition's share of the rate limit. Only the grant, never the URL, travels to the executors with the reader.

On an executor (`read`) a connector is built from the grant — it never signs in, refreshes or rotates a token —
and scans its partition as a DuckDB scan would: the pushable predicate plus the partition's bounds go to the API,
the bounds are re-applied exactly, and the partition stops with an error once it has spent its call budget.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from pyspark.sql.datasource import DataSourceReader, Filter, InputPartition
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.types import StructType

from federation.connector import Connector
from federation.errors import MissingFilterError, OperationalError, UnknownColumnError
from federation.handoff import AccessGrant, max_parts
from federation.predicates import Predicate, conjunction, pushable
from federation.registry import connector_class, open_source
from federation.spark.filters import translate
from federation.spark.options import ReadOptions
from federation.spark.partitions import Slice, plan
from federation.table import ScanRequest, TableInfo, missing_filter

log = logging.getLogger("duckfed.spark")


@dataclass
class Partition(InputPartition):
    """One slice of the table, as Spark hands it to `DuckfedReader.read`, with the access grant and the call
    budget (Spark sends the reader to executors before it plans partitions: what planning finds travels here)."""

    slice: Slice
    grant: AccessGrant
    budget: int | None


class DuckfedReader(DataSourceReader):
    def __init__(self, options: ReadOptions, schema: StructType) -> None:
        self.table_name = options.table
        self.requested = options.partitions
        self.calls_per_partition = options.calls_per_partition
        self.schema = schema
        #: The pushable part of each filter Spark pushed.
        self.pushed: list[Predicate] = []
        # Driver only: dropped before the reader is sent to executors (`__getstate__`).
        self._connector: Connector | None = open_source(options.url)
        try:
            self.info: TableInfo = self._connector.table(options.table).info
            self.columns = spark_columns(self.info, schema)
        except BaseException:
            self._close()
            raise

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_connector"] = None
        return state

    def pushFilters(self, filters: list[Filter]) -> Iterable[Filter]:
        for item in filters:
            predicate = translate(item, self.info)
            part = None if predicate is None else pushable(predicate, self.info.can_push)
            if part is not None:
                self.pushed.append(part)
            # Spark evaluates every filter again: the API's answer is only a superset (see `filters`).
            yield item

    def partitions(self) -> list[Partition]:
        connector = self._connector
        assert connector is not None, "partitions are planned on the driver"
        try:
            predicate = conjunction(self.pushed)
            missing = missing_filter(self.info, predicate)
            if missing is not None:
                raise MissingFilterError(
                    f"table {self.info.name!r} can only be read with a filter on {missing!r}: add "
                    f'.where("{missing} = …") or an IN list before reading'
                )
            limit = connector.http.limiter.limit if connector.http and connector.http.limiter else None
            cap = max_parts(limit) if limit is not None else None
            table = connector.table(self.table_name)
            planned = plan(table, predicate, requested=self.requested, cap=cap, budget=self.calls_per_partition)
            grant = connector.export_access(workers=len(planned.slices))
        finally:
            self._close()
        log.info(
            "%s: reading %s in %d partitions (%s)", grant.scheme, self.table_name, len(planned.slices), planned.method
        )
        return [Partition(s, grant, planned.budget) for s in planned.slices]

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        assert isinstance(partition, Partition)
        piece, grant = partition.slice, partition.grant
        target = to_arrow_schema(self.schema, timezone="UTC")
        connector = connector_class(grant.scheme).from_access(grant)
        try:
            table = connector.table(self.table_name)
            predicate = conjunction([*self.pushed, *piece.predicates()])
            exact = None if piece.column is None else piece.exact(self.info.column(piece.column).type)
            needed = self.columns
            if piece.column is not None and piece.column not in needed:
                needed = (*needed, piece.column)  # the bounds are applied to every batch, so the scan reads them
            reader = table.scan(ScanRequest(needed, predicate))
            try:
                for batch in reader:
                    _check_budget(connector, partition.budget, piece, self.table_name)
                    if exact is not None:
                        batch = batch.filter(exact)
                    yield batch.select(list(self.columns)).cast(target)
            finally:
                reader.close()
        finally:
            connector.close()

    def _close(self) -> None:
        if self._connector is not None:
            self._connector.close()
            self._connector = None


def _check_budget(connector: Connector, budget: int | None, piece: Slice, table: str) -> None:
    spent = connector.http.calls if connector.http is not None else 0
    if budget is not None and spent > budget:
        raise OperationalError(
            f"partition {piece.index} of {table!r} spent {spent} API calls, more than its budget of {budget}; "
            'raise it with .option("callsPerPartition", …) if the table is larger than estimated',
            source=connector.scheme,
        )


def spark_columns(info: TableInfo, schema: StructType) -> tuple[str, ...]:
    """The table's columns a Spark schema names (a schema given to the reader may hold fewer, never others)."""
    try:
        return tuple(info.column(name).name for name in schema.fieldNames())
    except UnknownColumnError as error:
        raise UnknownColumnError(f"{error.message} (in the schema given to the reader)") from None

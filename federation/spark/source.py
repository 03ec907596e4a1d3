"""`DuckfedDataSource`: the `duckfed` format of `spark.read` and `df.write` (pyspark's Python data source API).

Spark creates the data source on the driver with the options given (`federation.spark.options`); it reads the
table's schema from the source, then plans reads (`federation.spark.reader`) and writes
(`federation.spark.writer`). The URL, which may hold secrets, stays on the driver: the data source drops it from
its options before Spark sends a reader or writer, and the data source with it, to the executors.
"""

from __future__ import annotations

from pyspark.sql.datasource import DataSource, DataSourceReader, DataSourceWriter
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.sql.types import StructType

from federation.registry import open_source
from federation.spark.options import read_options, write_options
from federation.spark.reader import DuckfedReader
from federation.spark.writer import DuckfedWriter


class DuckfedDataSource(DataSource):
    """`spark.read.format("duckfed").option("url", …).option("table", …).load()`, and `df.write` likewise."""

    @classmethod
    def name(cls) -> str:
        return "duckfed"

    def schema(self) -> StructType:
        options = read_options(self.options)
        connector = open_source(options.url)
        try:
            info = connector.table(options.table).info
        finally:
            connector.close()
        return from_arrow_schema(info.schema, prefer_timestamp_ntz=False)

    def reader(self, schema: StructType) -> DataSourceReader:
        reader = DuckfedReader(read_options(self.options), schema)
        self._forget_url()
        return reader

    def writer(self, schema: StructType, overwrite: bool) -> DataSourceWriter:
        writer = DuckfedWriter(write_options(self.options), schema, overwrite=overwrite)
        self._forget_url()
        return writer

    def _forget_url(self) -> None:
        """Drop the URL (it may hold passwords, client secrets, refresh tokens) before Spark ships this object."""
        self.options = {k: v for k, v in self.options.items() if k.lower() != "url"}

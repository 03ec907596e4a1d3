"""DuckDB's hand-over of a query result that `federation.serve.sending` overlaps with: the first batch reaches the
reader once `streaming_buffer_size` of output is queued, or when the query ends (at the default, 10 MiB, a smaller
result is usually whole before its first batch). At the server's setting the first batch comes while the source
still has most of its batches to give. Counted in batches the source gave, not timed."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pyarrow as pa

from federation.serve.results import BATCH_ROWS
from federation.serve.server import STREAMING_BUFFER

SCHEMA = pa.schema([("n", pa.int64()), ("text", pa.string())])
BATCHES = 40
ROWS = 2_000  # 2,000 rows of 100 bytes: about 0.2 MB a batch, 8 MB in all


def _given_before_first_batch(buffer: str) -> int:
    given = 0

    def source() -> Iterator[pa.RecordBatch]:
        nonlocal given
        for i in range(BATCHES):
            given += 1
            yield pa.record_batch([pa.array(range(i * ROWS, (i + 1) * ROWS)), pa.array(["x" * 100] * ROWS)], SCHEMA)

    with duckdb.connect() as con:
        con.execute(f"SET streaming_buffer_size = '{buffer}'")
        con.register("source", pa.RecordBatchReader.from_batches(SCHEMA, source()))
        reader = con.sql("SELECT n, text FROM source").to_arrow_reader(BATCH_ROWS)
        first = reader.read_next_batch()
        at_first = given
        rows = first.num_rows + sum(batch.num_rows for batch in reader)
    assert rows == BATCHES * ROWS
    return at_first


def test_at_the_servers_buffer_the_first_batch_comes_while_the_source_is_still_giving() -> None:
    assert _given_before_first_batch(STREAMING_BUFFER) < BATCHES // 2

"""Whether a scan runs as a Bulk API 2.0 query job, and the scan itself when it does.

REST query paging costs ceil(N / page size) calls; a query job costs its creation, its polls and ceil(N / 20,000)
result chunks (`bulk.scan_calls`). N comes from the row count a full scan last found, for a scan of the whole
table; otherwise the REST query's first page is fetched anyway and its `totalSize` decides: a scan that stays
on REST keeps that page, one that moves to Bulk drops it (one call, against the many it saves). A LIMIT, an
ORDER BY or a split IN list always stays on REST: a top-N must cost one call, and a job returns rows unordered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

import pyarrow as pa

from connectors.salesforce.bulk import BulkJobs, BulkPolicy, Chunk, scan_calls
from connectors.salesforce.bulk_csv import CsvDecoder
from connectors.salesforce.client import SalesforceClient
from federation.paging import chained
from federation.table import Column, ScanRequest

_TOTAL = re.compile(rb'"totalSize"\s*:\s*(\d+)')


def _eligible(policy: BulkPolicy, request: ScanRequest, statements: Sequence[str]) -> bool:
    return policy.enabled and request.limit is None and not request.order_by and len(statements) == 1


def describe(
    policy: BulkPolicy, request: ScanRequest, statements: Sequence[str], page_size: int, known: int | None
) -> str:
    """What EXPLAIN adds to a scan's SOQL when the table's known size sends it to a query job (else nothing)."""
    if known is None or request.predicate is not None or not _eligible(policy, request, statements):
        return ""
    if not policy.scan(known, page_size):
        return ""
    return f" (as a Bulk API 2.0 query job: about {scan_calls(known)} calls for the {known:,} records)"


def bulk_scan(
    client: SalesforceClient,
    policy: BulkPolicy,
    request: ScanRequest,
    statements: Sequence[str],
    columns: Sequence[Column],
    *,
    page_size: int,
    known_rows: Callable[[], int | None],
    probed: list[bytes],
) -> pa.RecordBatchReader | None:
    """The scan as a query job, or None to page through the REST API — then `probed` may hold the REST query's
    first page, already fetched, for the scan to start from."""
    if not _eligible(policy, request, statements):
        return None
    soql = statements[0]
    rows = known_rows() if request.predicate is None else None
    if rows is not None:
        if not policy.scan(rows, page_size):
            return None
    else:
        body = client.query(soql, page_size)
        found = _TOTAL.search(body)
        if found is None or not policy.scan(int(found.group(1)), page_size, spent=1):
            probed.append(body)
            return None
    jobs = BulkJobs(client)
    total, job_id = jobs.query(soql)
    request.progress.total(total)
    decoder = CsvDecoder(columns)

    def following(chunk: Chunk) -> Chunk | None:
        return None if chunk.next_locator is None else jobs.chunk(job_id, chunk.next_locator)

    def batches() -> Iterator[pa.RecordBatch]:
        # Chunks are downloaded ahead on another thread (`federation.paging.chained`), and each is decoded a block at
        # a time as DuckDB reads it: a decoded chunk would be as large again as its body.
        for blocks in chained(lambda: jobs.chunk(job_id), following, lambda chunk: decoder.batches(chunk.take())):
            yield from blocks

    return pa.RecordBatchReader.from_batches(decoder.schema, batches())

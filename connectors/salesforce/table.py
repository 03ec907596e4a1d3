"""An sObject as a table: columns from describe, scans compiled to SOQL and paged lazily through queryMore, writes
through sObject Collections (`connectors.salesforce.writes`).

A scan's pages are downloaded on one thread and decoded on another (`federation.paging.chained`): the next
request needs only the `nextRecordsUrl`, which is read from the raw response without decoding it.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from typing import Any

import pyarrow as pa

from connectors.salesforce import deleted
from connectors.salesforce.aggregates import compile_aggregate, read_aggregate
from connectors.salesforce.bulk import BulkJobs, BulkPolicy
from connectors.salesforce.bulk import scan_calls as bulk_scan_calls
from connectors.salesforce.bulk_scan import bulk_scan
from connectors.salesforce.bulk_scan import describe as bulk_scan_described
from connectors.salesforce.bulk_writes import BulkWriter
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.soql import compile_selects
from connectors.salesforce.types import PageDecoder, column
from connectors.salesforce.writes import MAX_RECORDS, SObjectWriter
from federation.paging import chained
from federation.table import (
    Aggregate,
    AggregateRequest,
    Column,
    Deletions,
    NullOrder,
    Ordering,
    ScanRequest,
    Table,
    TableInfo,
    WriteResult,
)

#: SOQL sorts NULLs first ascending unless told (NULLS FIRST/LAST), and text case-insensitively; GROUP BY and
#: MIN/MAX of text are case-insensitive too, so the planner pushes neither for text.
ORDERING = Ordering(NullOrder.FIRST, collation="case-insensitive", nulls_clause=True)

# A query response opens with `totalSize`, `done` and (unless done) `nextRecordsUrl`, then its records: the first
# match is the response's own (a record's field names are never these, and quotes inside values are escaped).
_DONE = re.compile(rb'"done"\s*:\s*(true|false)')
_NEXT = re.compile(rb'"nextRecordsUrl"\s*:\s*"([^"]+)"')


def next_url(body: bytes) -> str | None:
    """The `nextRecordsUrl` of a raw query response, or None on the last page."""
    done = _DONE.search(body)
    found = _NEXT.search(body)
    if done is None or done.group(1) == b"true" or found is None:
        return None
    return found.group(1).decode().replace("\\/", "/")


def table_info(describe: dict[str, Any], page_size: int | None = None) -> TableInfo:
    columns = tuple(c for c in (column(f) for f in describe["fields"]) if c is not None)
    names = {c.name for c in columns}
    return TableInfo(
        name=describe["name"],
        columns=columns,
        description=str(describe.get("label", "")),
        insertable=bool(describe.get("createable")),
        updatable=bool(describe.get("updateable")),
        deletable=bool(describe.get("deletable")),
        page_size=page_size,
        records_per_write=MAX_RECORDS,
        limit_pushdown=True,
        ordering=ORDERING,
        aggregates=frozenset(Aggregate),
        # The platform stamps every change (developer.salesforce.com, "System Fields": SystemModstamp), and lists
        # the deletions of replicateable objects (REST API Developer Guide, "sObject Get Deleted": `deleted.py`).
        modified_column="SystemModstamp" if "SystemModstamp" in names else None,
        deletions=Deletions.FEED if describe.get("replicateable") else Deletions.KEY_SCAN,
        # Fields marked External ID take upserts (`SObjectWriter.upsert`).
        upsert_keys=tuple(f["name"] for f in describe["fields"] if f.get("externalId") and f["name"] in names),
    )


class SObjectTable(Table):
    """One queryable sObject."""

    def __init__(
        self,
        client: SalesforceClient,
        describe: dict[str, Any],
        page_size: int,
        *,
        all_or_none: bool = True,
        bulk: BulkPolicy | None = None,
        known_rows: Callable[[], int | None] = lambda: None,
    ) -> None:
        self.client = client
        self.describe = describe
        self.page_size = page_size
        self.writer = SObjectWriter(client, self, all_or_none=all_or_none)
        # Large scans and writes may go through Bulk API 2.0 jobs instead (`bulk_scan`, `bulk_writes`).
        self.bulk = bulk or BulkPolicy(enabled=False)
        self.known_rows = known_rows
        self.writer.bulk = BulkWriter(BulkJobs(client), self, self.bulk, all_or_none=all_or_none)

    @cached_property
    def info(self) -> TableInfo:
        return table_info(self.describe, self.page_size)

    def soql(self, request: ScanRequest) -> list[str]:
        """The statements whose results together are the scan (several when a long IN list is split)."""
        columns = [self.info.column(name) for name in request.columns] or [self._key]
        order = [(self.info.column(k.column).api_name, k.descending, k.nulls_first) for k in request.order_by]
        return compile_selects(
            self.info.name,
            [c.api_name for c in columns],
            request.predicate,
            self.info.column,
            limit=request.limit,
            order_by=order,
        )

    def aggregate(self, request: AggregateRequest) -> pa.RecordBatchReader | None:
        fields = {f["name"]: f for f in self.describe["fields"]}
        soql = compile_aggregate(self.info.name, request, self.info.column, fields)
        if soql is None:
            return None
        body = self.client.query(soql, self.page_size)
        groups = read_aggregate(body, request, request.schema(self.info), self.info.column)
        return None if groups is None else groups.to_reader()

    def describe_request(self, request: ScanRequest | AggregateRequest) -> str:
        if isinstance(request, AggregateRequest):
            fields = {f["name"]: f for f in self.describe["fields"]}
            soql = compile_aggregate(self.info.name, request, self.info.column, fields)
            return (
                soql
                or f"(SOQL can't aggregate this exactly: DuckDB aggregates a scan) {super().describe_request(request)}"
            )
        statements = self.soql(request)
        via_bulk = bulk_scan_described(self.bulk, request, statements, self.page_size, self.known_rows())
        return "; ".join(statements) + via_bulk

    def expected_calls(self, request: ScanRequest, rows: int | None) -> int | None:
        known = rows if rows is not None else self.known_rows()
        if known is not None and bulk_scan_described(self.bulk, request, self.soql(request), self.page_size, known):
            return bulk_scan_calls(known)
        return super().expected_calls(request, rows)

    def deleted_since(self, since: datetime.datetime) -> Sequence[tuple[str, datetime.datetime]] | None:
        """The records deleted since `since`, from the delete log (None: the log can't tell; read the keys)."""
        return deleted.deleted_since(self.client, self.info.name, since)

    @property
    def _key(self) -> Column:
        key = self.info.primary_key
        return key if key is not None else self.info.columns[0]

    def scan(self, request: ScanRequest) -> pa.RecordBatchReader:
        decoder = PageDecoder([self.info.column(name) for name in request.columns])
        statements = self.soql(request)
        probed: list[bytes] = []  # the REST query's first page, when fetched to choose between REST and Bulk
        columns = [self.info.column(name) for name in request.columns]
        bulk = bulk_scan(
            self.client,
            self.bulk,
            request,
            statements,
            columns,
            page_size=self.page_size,
            known_rows=self.known_rows,
            probed=probed,
        )
        if bulk is not None:
            return bulk

        def pages(soql: str) -> Iterator[pa.RecordBatch]:
            def following(body: bytes) -> bytes | None:
                url = next_url(body)
                return None if url is None else self.client.query_more(url, self.page_size)

            return chained(
                lambda: probed.pop() if probed else self.client.query(soql, self.page_size), following, decode
            )

        def decode(body: bytes) -> pa.RecordBatch:
            page = decoder.decode(body)
            request.progress.total(page.total_size)  # every page of a query repeats its totalSize
            return page.batch

        # Statements run one after another, each only when the previous is drained, so a LIMIT still stops early.
        batches = (batch for soql in statements for batch in pages(soql))
        return pa.RecordBatchReader.from_batches(decoder.schema, batches)

    def insert(self, rows: pa.Table) -> WriteResult:
        return self.writer.insert(rows)

    def update(self, keys: Sequence[object], values: pa.Table) -> WriteResult:
        return self.writer.update(keys, values)

    def delete(self, keys: Sequence[object]) -> WriteResult:
        return self.writer.delete(keys)

    def upsert(self, key: str, rows: pa.Table) -> WriteResult:
        return self.writer.upsert(key, rows)

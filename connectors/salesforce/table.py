"""An sObject as a table: columns from describe, scans compiled to SOQL and paged lazily through queryMore, writes
through sObject Collections (`connectors.salesforce.writes`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import Any

import pyarrow as pa

from connectors.salesforce.aggregates import compile_aggregate, read_aggregate
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.soql import compile_selects
from connectors.salesforce.types import Page, PageDecoder, column
from connectors.salesforce.writes import SObjectWriter
from federation.paging import read_ahead
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
        limit_pushdown=True,
        ordering=ORDERING,
        aggregates=frozenset(Aggregate),
        # The platform stamps every change (developer.salesforce.com, "System Fields": SystemModstamp). Deleted
        # records are in queryAll's results, but the connector reads no deletion feed yet: a sync scans the keys.
        modified_column="SystemModstamp" if "SystemModstamp" in names else None,
        deletions=Deletions.KEY_SCAN,
    )


class SObjectTable(Table):
    """One queryable sObject."""

    def __init__(
        self, client: SalesforceClient, describe: dict[str, Any], page_size: int, *, all_or_none: bool = True
    ) -> None:
        self.client = client
        self.describe = describe
        self.page_size = page_size
        self.writer = SObjectWriter(client, self, all_or_none=all_or_none)

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
        return "; ".join(self.soql(request))

    @property
    def _key(self) -> Column:
        key = self.info.primary_key
        return key if key is not None else self.info.columns[0]

    def scan(self, request: ScanRequest) -> pa.RecordBatchReader:
        decoder = PageDecoder([self.info.column(name) for name in request.columns])
        statements = self.soql(request)

        def pages(soql: str) -> Iterator[Page]:
            def first() -> Page:
                return decoder.decode(self.client.query(soql, self.page_size))

            def following(page: Page) -> Page | None:
                if page.next_url is None:
                    return None
                return decoder.decode(self.client.query_more(page.next_url, self.page_size))

            return read_ahead(first, following)

        # Statements run one after another, each only when the previous is drained, so a LIMIT still stops early.
        batches = (page.batch for soql in statements for page in pages(soql))
        return pa.RecordBatchReader.from_batches(decoder.schema, batches)

    def insert(self, rows: pa.Table) -> WriteResult:
        return self.writer.insert(rows)

    def update(self, keys: Sequence[object], values: pa.Table) -> WriteResult:
        return self.writer.update(keys, values)

    def delete(self, keys: Sequence[object]) -> WriteResult:
        return self.writer.delete(keys)

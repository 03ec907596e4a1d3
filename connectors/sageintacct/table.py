"""An Intacct object as a table: scans through `query`, paged by RECORDNO, and writes (`writes.py`).

`query` has no cursor: each offset is a brand-new query, so offset paging over records that change during the
scan would skip or repeat them. Pages are read by key instead: ordered by RECORDNO, each page asks for the
records after the last one seen (`RECORDNO > last`, offset 0), so a record that exists throughout the scan
appears exactly once. `numremaining` says when the last page has come, so a scan of N records costs
ceil(N / PageSize) calls; a LIMIT shrinks the first page, and the next page is fetched while DuckDB works on
this one (`federation.paging.read_ahead`). Aggregates the gateway computes exactly are one `query` call
(`aggregates.py`).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa

from connectors.sageintacct import client
from connectors.sageintacct.aggregates import compile_aggregate, read_aggregate
from connectors.sageintacct.client import Sender, function, read_error, results, rows_of
from connectors.sageintacct.query import compile_filter, query
from connectors.sageintacct.types import batch
from connectors.sageintacct.writes import ObjectWriter
from federation.http import HttpClient
from federation.paging import read_ahead
from federation.predicates import And, Comparison, Operator, Predicate
from federation.table import AggregateRequest, ScanRequest, Table, TableInfo, WriteResult

#: The largest `query` page (§1.6).
MAX_PAGE = 2000


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, str | None]]
    remaining: int
    last: int | None


class ObjectTable(Table):
    def __init__(
        self, http: HttpClient, sender: Sender, obj: str, info: TableInfo, page_size: int, zone: zoneinfo.ZoneInfo
    ) -> None:
        self.http = http
        self.sender = sender
        self.obj = obj
        self._info = info
        self.page_size = page_size
        self.zone = zone
        self.writer = ObjectWriter(http, sender, obj, info)

    @property
    def info(self) -> TableInfo:
        return self._info

    def scan(self, request: ScanRequest) -> pa.RecordBatchReader:
        wanted = [self.info.column(name) for name in request.columns]
        key = self.info.column("Recordno")
        fields = list(dict.fromkeys([*(c.api_name for c in wanted), key.api_name]))
        size = min(self.page_size, request.limit) if request.limit else self.page_size
        schema = pa.schema([pa.field(c.name, c.type, c.nullable) for c in wanted])
        field_of = {c.name: c.api_name for c in self.info.columns}.__getitem__

        def fetch(after: int | None) -> Page:
            predicate: Predicate | None = request.predicate
            if after is not None:
                bound = Comparison(key.name, Operator.GT, after)
                predicate = bound if predicate is None else And((predicate, bound))
            body = query(
                self.obj, fields, compile_filter(predicate, field_of, self.zone), page_size=size, order_by=key.api_name
            )
            rows, remaining = self._query(body)
            last = int(rows[-1][key.api_name] or 0) if rows else None
            return Page(rows, remaining, last)

        seen = [0]

        def following(previous: Page) -> Page | None:
            seen[0] += len(previous.rows)
            if previous.remaining <= 0 or previous.last is None:
                return None
            if request.limit is not None and seen[0] >= request.limit:
                return None
            return fetch(previous.last)

        def batches() -> Iterator[pa.RecordBatch]:
            for page in read_ahead(lambda: fetch(None), following):
                yield batch(page.rows, wanted, self.zone)

        return pa.RecordBatchReader.from_batches(schema, batches())

    def _query(self, body: str) -> tuple[list[dict[str, str | None]], int]:
        """One `query` call: its rows and how many remain after them."""
        response = self.http.request(
            "POST",
            "/",
            operation=client.QUERY,
            content=self.sender.request([function(body)]),
            headers={"Content-Type": "application/xml"},
        )
        (result,) = results(response)
        if result.findtext("status") != "success":
            raise read_error(result, self.info.name)
        data = result.find("data")
        assert data is not None
        return rows_of(response, self.obj), int(data.get("numremaining") or 0)

    def aggregate(self, request: AggregateRequest) -> pa.RecordBatchReader | None:
        body = compile_aggregate(self.obj, request, self.info, self.zone, MAX_PAGE)
        if body is None:
            return None
        rows, remaining = self._query(body)
        groups = read_aggregate(rows, remaining, request, self.info, self.zone)
        if groups is None:
            return None  # more groups than a page holds, or a sum that isn't exact: the engine aggregates a scan
        return pa.RecordBatchReader.from_batches(groups.schema, [groups])

    def describe_request(self, request: ScanRequest | AggregateRequest) -> str:
        if isinstance(request, AggregateRequest):
            body = compile_aggregate(self.obj, request, self.info, self.zone, MAX_PAGE)
            if body is not None:
                return body
            return f"(not exact: DuckDB aggregates a scan) {super().describe_request(request)}"
        return super().describe_request(request)

    def insert(self, rows: pa.Table) -> WriteResult:
        return self.writer.insert(rows)

    def update(self, keys: Sequence[object], values: pa.Table) -> WriteResult:
        return self.writer.update(keys, values)

    def delete(self, keys: Sequence[object]) -> WriteResult:
        return self.writer.delete(keys)

"""An Intacct object as a table: scans through `query`, paged by RECORDNO, and writes (`writes.py`).

`query` has no cursor: each offset is a brand-new query, so offset paging over records that change during the
scan would skip or repeat them. Pages are read by key instead: ordered by RECORDNO, each page asks for the
records after the last one seen (`RECORDNO > last`, offset 0), so a record that exists throughout the scan
appears exactly once. `numremaining` says when the last page has come, so a scan of N records costs
ceil(N / PageSize) calls; a LIMIT shrinks the first page. Pages are downloaded on one thread and decoded on
another (`federation.paging.chained`).

Once the first page has said how many records remain, the rest can be fetched in parallel by offset (up to
`max_concurrency` at once), each page starting one record early: its first record must be the last one the page
before ended with. Pages are ordered by RECORDNO, so a page that starts with that record holds, after it, every
record that follows it at the time it was read: nothing is skipped or repeated. A page that does not start with
it (a record before it was created or deleted meanwhile) ends the parallel part, and the scan goes on by key
from the last record handed out, as does a scan whose last page says more records have come. The overlapping
record makes a page carry one new record less, so pages are fetched in parallel only when that costs no more
calls than paging by key. Aggregates the gateway computes exactly are one `query` call (`aggregates.py`).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import zoneinfo
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass

import httpx
import pyarrow as pa

from connectors.sageintacct import client
from connectors.sageintacct.aggregates import compile_aggregate, read_aggregate
from connectors.sageintacct.client import Sender, columns_of, first_and_last, function, read_error, results, rows_of
from connectors.sageintacct.query import compile_filter, query
from connectors.sageintacct.types import from_texts
from connectors.sageintacct.writes import ObjectWriter
from federation.http import HttpClient
from federation.paging import account_slots, chained, parallel
from federation.predicates import And, Comparison, Operator, Predicate
from federation.table import AggregateRequest, ScanRequest, Table, TableInfo, WriteResult

#: The largest `query` page (§1.6).
MAX_PAGE = 2000


@dataclass(frozen=True)
class Page:
    """One `query` response, read only as far as the next request needs: its rows are decoded later."""

    response: httpx.Response
    count: int
    remaining: int
    first: int | None
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

        def fetch(after: int | None, offset: int = 0) -> Page:
            predicate: Predicate | None = request.predicate
            if after is not None:
                bound = Comparison(key.name, Operator.GT, after)
                predicate = bound if predicate is None else And((predicate, bound))
            where = compile_filter(predicate, field_of, self.zone)
            body = query(self.obj, fields, where, page_size=size, order_by=key.api_name, offset=offset)
            return self._page(body, key.api_name)

        def decode(page: Page) -> pa.RecordBatch:
            texts = columns_of(page.response, self.obj, [c.api_name for c in wanted])
            return from_texts(texts, wanted, self.zone)

        def wanted_more(seen: int) -> bool:
            return request.limit is None or seen < request.limit

        def by_key(after: int, seen: int) -> Iterator[pa.RecordBatch]:
            """Pages after key `after`, once `seen` records were handed out, one request after the other."""
            counted = [seen]

            def following(previous: Page) -> Page | None:
                counted[0] += previous.count
                if previous.remaining <= 0 or previous.last is None or not wanted_more(counted[0]):
                    return None
                return fetch(previous.last)

            return chained(lambda: fetch(after), following, decode)

        def pages_at(offsets: Sequence[int], *, with_first: bool = False) -> Generator[tuple[Page, pa.RecordBatch]]:
            """The first page (when `with_first`) and the pages at `offsets`, each read from one record early."""
            return parallel(
                lambda offset: fetch(None) if offset is None else fetch(None, offset - 1),
                [None] * with_first + list(offsets),
                lambda page: (page, decode(page)),
                concurrency=self.info.max_concurrency,
                slots=account_slots(self.http, self.info.max_concurrency),
            )

        def batches() -> Iterator[pa.RecordBatch]:
            # A repeated full scan sends its first page together with the pages the last one's row count implies:
            # the very requests the first page's `numremaining` would ask for while the count holds.
            guessed = self._guessed_offsets(size, request.known_rows)
            pages = pages_at(guessed, with_first=True) if guessed else None
            try:
                yield from from_first_page(pages, guessed)
            finally:
                if pages is not None:
                    pages.close()  # a scan stopped early (or a guess the table outgrew) sends no more

        def from_first_page(
            pages: Generator[tuple[Page, pa.RecordBatch]] | None, guessed: list[int]
        ) -> Iterator[pa.RecordBatch]:
            first, first_rows = next(pages) if pages is not None else (page := fetch(None), decode(page))
            request.progress.total(first.count + first.remaining)  # the response's totalcount
            yield first_rows
            if first.remaining <= 0 or first.last is None or not wanted_more(first.count):
                return
            last, seen, remaining = first.last, first.count, first.remaining
            offsets = self._parallel_offsets(first.count, first.remaining, size, request.limit)
            if pages is not None and offsets[: len(guessed)] != guessed[: len(offsets)]:
                pages.close()  # the first page was short: the table changed since its count was kept
                pages = None
            if pages is None and offsets:
                pages = pages_at(offsets)
            if pages is not None:
                with contextlib.closing(pages):
                    for page, rows in itertools.islice(pages, len(offsets)):
                        if page.first != last or page.last is None:
                            remaining = 1  # the records moved: go on by key from the last one handed out
                            break
                        yield rows.slice(1)
                        last, seen, remaining = page.last, seen + page.count - 1, page.remaining
            if remaining > 0 and wanted_more(seen):
                yield from by_key(last, seen)

        return pa.RecordBatchReader.from_batches(schema, batches())

    def _guessed_offsets(self, size: int, known_rows: int | None) -> list[int]:
        """The offsets `_parallel_offsets` gives after a full first page when the table still has `known_rows`."""
        if known_rows is None or known_rows <= size:
            return []
        return self._parallel_offsets(size, known_rows - size, size, None)

    def _parallel_offsets(self, count: int, remaining: int, size: int, limit: int | None) -> list[int]:
        """The offsets of the pages after a first page of `count` records (`remaining` more) when they are worth
        fetching in parallel, else none."""
        remaining = remaining if limit is None else min(remaining, limit - count)
        if self.info.max_concurrency < 2 or size < 2 or count != size:
            return []
        pages = math.ceil(remaining / (size - 1))
        if pages < 2 or pages != math.ceil(remaining / size):
            return []  # one page left, or the overlapping record would cost a call more than paging by key
        return [count + index * (size - 1) for index in range(pages)]

    def _page(self, body: str, key: str) -> Page:
        """One `query` call, read as far as the next call needs."""
        response = self._send(body)
        (result,) = results(response)
        data = result.find("data")
        assert data is not None
        first, last = first_and_last(response, key)
        count = data.get("count")
        return Page(
            response,
            int(count) if count is not None else len(rows_of(response, self.obj)),
            int(data.get("numremaining") or 0),
            int(first) if first else None,
            int(last) if last else None,
        )

    def _send(self, body: str) -> httpx.Response:
        """One `query` call's response, or the gateway's error for it."""
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
        return response

    def _query(self, body: str) -> tuple[list[dict[str, str | None]], int]:
        """One `query` call: its rows and how many remain after them."""
        response = self._send(body)
        (result,) = results(response)
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

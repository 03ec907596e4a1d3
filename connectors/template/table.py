"""A template API table: scans paged by key, writes one record per call.

Offset paging over a table that changes during the scan skips or repeats records (a delete before the offset
shifts every later record back by one). So pages are read by key instead: ordered by the key, each page asks for
keys after the last one seen, and the offset stays 0. A record that exists throughout the scan appears exactly
once, however the table changes. A LIMIT shrinks the first page; a top-N (`order_by` with a limit that fits one
page) is sorted by the API.
"""

from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import orjson
import pyarrow as pa

from connectors.template import client
from connectors.template.query import aggregate_params, compile_where, page_params, states_exactly
from connectors.template.types import batch, decode_page, json_value
from federation.errors import Error, InternalError, RecordFailure, WriteError
from federation.http import HttpClient
from federation.json_pages import key_values
from federation.paging import chained
from federation.predicates import And, Comparison, Operator, Predicate
from federation.table import Aggregate, AggregateRequest, Column, ScanRequest, Table, TableInfo, WriteResult

MAX_PAGE = 500


class Fetched(NamedTuple):
    """One page as downloaded: its body, its record count and last record's key (the next page starts after it),
    and its batch of the fetched columns when those two had to be decoded from it (else None: read from the bytes,
    so the next request goes out while this page decodes)."""

    body: bytes
    rows: int
    last: object
    decoded: pa.RecordBatch | None


def _last(page: pa.RecordBatch, key: str) -> object:
    """The key of a decoded page's last record (None for an empty page)."""
    keys = page.column(key)
    return keys[len(keys) - 1].as_py() if len(keys) else None


class RecordsTable(Table):
    def __init__(self, http: HttpClient, info: TableInfo, page_size: int) -> None:
        self.http = http
        self._info = info
        self.page_size = page_size
        self._base = f"/api/v1/tables/{info.name}"
        self._path = f"{self._base}/records"
        key = info.primary_key
        assert key is not None, "every template API table has a key"
        self.key: Column = key

    @property
    def info(self) -> TableInfo:
        return self._info

    def scan(self, request: ScanRequest) -> pa.RecordBatchReader:
        wanted = [self.info.column(name) for name in request.columns]
        page = self._page(request)
        order = self._order(request, page)
        schema = pa.schema([pa.field(c.name, c.type, c.nullable) for c in wanted])

        fetched = wanted if self.key in wanted else [*wanted, self.key]

        def read(body: bytes) -> pa.RecordBatch:
            # Arrow's JSON reader holds no GIL, so the next page downloads while this one decodes; a page it can't
            # read goes through orjson and `batch`.
            decoded = decode_page(body, fetched)
            return batch(orjson.loads(body)["records"], fetched) if decoded is None else decoded

        def fetch(after: object | None) -> Fetched:
            params = self._params(request, after)
            body = self.http.request("GET", self._path, operation=client.LIST_RECORDS, params=params).content
            # The API writes compact JSON of flat records, each with its key once, so the bytes say how many records
            # the page holds and which key ends it; `decode` checks both against the decoded page.
            found = key_values(body, self.key.api_name)
            if found is not None:
                return Fetched(body, *found, None)
            decoded = read(body)
            return Fetched(body, decoded.num_rows, _last(decoded, self.key.name), decoded)

        def following(previous: Fetched) -> Fetched | None:
            if previous.rows < page or order != self.key.api_name:
                return None  # a short page is the last; an ordered top-N is one page
            return fetch(previous.last)

        def decode(raw: Fetched) -> pa.RecordBatch:
            decoded = raw.decoded if raw.decoded is not None else read(raw.body)
            rows, last = decoded.num_rows, _last(decoded, self.key.name)
            if (rows, last) != (raw.rows, raw.last):
                # Raised before any row of a page requested after the misread key reaches DuckDB: never a silent gap.
                raise InternalError(
                    f"a page of {self.info.name} holds {rows} records ending at key {last!r}, but its bytes read as "
                    f"{raw.rows} ending at {raw.last!r}; the scan stopped there"
                )
            return decoded.select([c.name for c in wanted])

        def batches() -> Iterator[pa.RecordBatch]:
            yield from chained(lambda: fetch(None), following, decode)

        return pa.RecordBatchReader.from_batches(schema, batches())

    def _order(self, request: ScanRequest, page: int) -> str:
        """The API's `order`: the key (for key paging), or the requested sort when one page holds the top-N, the
        API sorts as DuckDB does (nulls first ascending, last descending; text by code point) and the filter is
        sent whole (the first rows of a wider set may not hold the first rows that match)."""
        exact = states_exactly(request.predicate)
        if exact and len(request.order_by) == 1 and request.limit is not None and request.limit <= page:
            (sort,) = request.order_by
            column = self.info.column(sort.column)
            if column.sortable and sort.nulls_first != sort.descending:
                return f"-{column.api_name}" if sort.descending else column.api_name
        return self.key.api_name

    def _page(self, request: ScanRequest) -> int:
        return min(self.page_size, request.limit) if request.limit else self.page_size

    def _params(self, request: ScanRequest, after: object | None) -> dict[str, str]:
        """A page's query parameters: the first, or the one after key `after` (the offset stays 0)."""
        wanted = [self.info.column(name) for name in request.columns]
        fetched = wanted if self.key in wanted else [*wanted, self.key]
        predicate: Predicate | None = request.predicate
        if after is not None:
            bound = Comparison(self.key.name, Operator.GT, after)
            predicate = bound if predicate is None else And((predicate, bound))
        page = self._page(request)
        where = compile_where(predicate, self._names)
        return page_params([c.api_name for c in fetched], where, order=self._order(request, page), limit=page)

    @property
    def _names(self) -> dict[str, str]:
        return {c.name: c.api_name for c in self.info.columns}

    # -- aggregates -----------------------------------------------------------------------------------------

    def aggregate(self, request: AggregateRequest) -> pa.RecordBatchReader | None:
        if not states_exactly(request.predicate):
            return None
        body = orjson.loads(
            self.http.request(
                "GET", f"{self._base}/aggregate", operation=client.AGGREGATE, params=self._aggregate_params(request)
            ).content
        )
        if body["more"]:
            return None  # more groups than the API returns: the engine aggregates a scan
        schema = request.schema(self.info)
        names = [*(self.info.column(g).api_name for g in request.group_by), *self._measures(request)]
        # Each result column read as a column of its type, under the name the API gives it.
        columns = [Column(name, field.type) for name, field in zip(names, schema, strict=True)]
        groups = batch(body["groups"], columns)
        return pa.RecordBatchReader.from_batches(schema, [groups.rename_columns(schema.names)])

    def _measures(self, request: AggregateRequest) -> list[str]:
        functions = {Aggregate.COUNT: "count", Aggregate.COUNT_COLUMN: "count"}
        return [
            f"{functions.get(c.function, c.function.value)}"
            + (f":{self.info.column(c.column).api_name}" if c.column else "")
            for c in request.calls
        ]

    def _aggregate_params(self, request: AggregateRequest) -> dict[str, str]:
        where = compile_where(request.predicate, self._names)
        return aggregate_params(
            [self.info.column(g).api_name for g in request.group_by], self._measures(request), where
        )

    def describe_request(self, request: ScanRequest | AggregateRequest) -> str:
        if isinstance(request, AggregateRequest):
            if not states_exactly(request.predicate):
                return f"(not exact: DuckDB aggregates a scan) {super().describe_request(request)}"
            path, params = f"{self._base}/aggregate", self._aggregate_params(request)
        else:
            path, params = self._path, self._params(request, None)
        return f"GET {path}?{urllib.parse.unquote(urllib.parse.urlencode(params))}"

    # -- writes ---------------------------------------------------------------------------------------------

    def insert(self, rows: pa.Table) -> WriteResult:
        keys: list[object] = []
        for position, row in enumerate(rows.to_pylist()):
            fields = {self.info.column(k).api_name: json_value(v) for k, v in row.items()}
            # One key per record: a create re-sent after a lost response is answered, not repeated.
            headers = {"Idempotency-Key": str(uuid.uuid4()), "Content-Type": "application/json"}
            try:
                response = self.http.request(
                    "POST",
                    self._path,
                    operation=client.CREATE,
                    content=orjson.dumps({"fields": fields}),
                    headers=headers,
                )
            except Error as error:
                raise self._failed("INSERT", position, len(rows), keys, error) from None
            keys.append(orjson.loads(response.content)["id"])
        return WriteResult(len(keys), tuple(keys))

    def update(self, keys: Sequence[object], values: pa.Table) -> WriteResult:
        changed: list[object] = []
        for position, (key, row) in enumerate(zip(keys, values.to_pylist(), strict=True)):
            fields = {self.info.column(k).api_name: json_value(v) for k, v in row.items()}
            try:
                self.http.request(
                    "PATCH",
                    f"{self._path}/{key}",
                    operation=client.UPDATE,
                    content=orjson.dumps({"fields": fields}),
                    headers={"Content-Type": "application/json"},
                )
            except Error as error:
                if error.api_code == "not_found":
                    continue  # deleted since the keys were read: nothing changed
                raise self._failed("UPDATE", position, len(keys), changed, error) from None
            changed.append(key)
        return WriteResult(len(changed), tuple(changed))

    def delete(self, keys: Sequence[object]) -> WriteResult:
        deleted: list[object] = []
        for position, key in enumerate(keys):
            try:
                self.http.request("DELETE", f"{self._path}/{key}", operation=client.DELETE)
            except Error as error:
                if error.api_code == "not_found":
                    continue  # already gone (a re-sent delete whose first answer was lost) or never there
                raise self._failed("DELETE", position, len(keys), deleted, error) from None
            deleted.append(key)
        return WriteResult(len(deleted), tuple(deleted))

    def _failed(self, kind: str, position: int, total: int, done: list[object], error: Error) -> WriteError:
        unsent = total - position - 1
        return WriteError(
            f"{kind} {self.info.name} stopped at row {position + 1}: {len(done)} written, {unsent} not sent",
            written=len(done),
            failures=[RecordFailure(position, error.api_code or type(error).__name__, error.message)],
            keys=done,
            source=self.http.source,
            operation=f"{kind} {self.info.name}",
        )

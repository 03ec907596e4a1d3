"""An Exact Online entity as a table: scans that follow the API's `__next` links, and writes one record a call.

Scans use the bulk endpoint (1,000 records a call) where the entity has one, else the 60-record one; either
way the API pages by key (`$skiptoken=guid'<last key>'`), so a record that exists throughout a scan appears
exactly once however the table changes. `$select` names only the columns read, `$top` carries a LIMIT, and a
filter whose URL would pass Exact's 6,000-character cap is split: a long `IN` list into several scans over
disjoint values (never a row twice), anything else widened. Before a long scan spends calls it checks the daily
quota against the pages it already knows it needs (`$inlinecount`), and fails fast when they don't fit.

Writes: POST (with `Prefer: return=representation`, so the reply carries the new key), PUT and DELETE by key.
A create whose reply was lost is never blindly re-sent: `LostCreates` looks for the record it may have made.

Deletions, for `duckfed sync`: from the division's `sync/Deleted` log where it lists the entity (`deleted.py`).
"""

from __future__ import annotations

import datetime
import functools
import logging
import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import orjson
import pyarrow as pa

from connectors.exactonline import client, deleted
from connectors.exactonline.aggregates import count_params, count_url, counted
from connectors.exactonline.entities import Entity
from connectors.exactonline.lost_creates import LostCreates
from connectors.exactonline.odata import compile_filter, literal
from connectors.exactonline.types import batch, decode_page, json_value
from federation.errors import Error, ProgrammingError, QuotaExhausted, RecordFailure, TransientError, WriteError
from federation.http import HttpClient
from federation.paging import chained
from federation.predicates import And, InList, Predicate, conjunction
from federation.sync import FeedRead
from federation.table import AggregateRequest, ScanRequest, Table, TableInfo, WriteResult

log = logging.getLogger("duckfed.exactonline")

#: "The maximum URL length is 6,000 characters" (API limits / Restrictions).
URL_CAP = 6000
PAGE, BULK_PAGE = 60, 1000

# A page is `{"d": {"results": [...], "__count": "N", "__next": "URL"}}`: these keys are the envelope's (a record's
# keys never are, and quotes inside values are escaped), so the next request is read without decoding the page.
_NEXT = re.compile(rb'"__next"\s*:\s*"([^"]+)"')
_COUNT = re.compile(rb'"__count"\s*:\s*"?(\d+)')


class EntityTable(Table):
    """One entity of one division. `prefix` is `{base}/api/v1/{division}`, known once the division is."""

    def __init__(
        self,
        http: HttpClient,
        entity: Entity,
        info: TableInfo,
        prefix: Callable[[], str],
        quota: client.QuotaWatch,
        *,
        bulk: bool,
    ) -> None:
        self.http = http
        self.entity = entity
        self._info = info
        self._prefix = prefix
        self.quota = quota
        self.bulk = bulk and entity.bulk is not None
        self.page_size = BULK_PAGE if self.bulk else PAGE
        self._types = {c.name: (c.api_name, c.native_type or "Edm.String") for c in info.columns}
        self.lost = LostCreates(http, entity, prefix, self.post)

    @property
    def info(self) -> TableInfo:
        return self._info

    # -- reads ----------------------------------------------------------------------------------------------

    def scan(self, request: ScanRequest) -> pa.RecordBatchReader:
        wanted = [self.info.column(name) for name in request.columns]
        key = self.info.column(self.entity.key)
        selected = [c.api_name for c in (wanted or [key])]
        path = self.entity.bulk if self.bulk and self.entity.bulk else self.entity.path
        url = f"{self._prefix()}/{path}"
        schema = pa.schema([pa.field(c.name, c.type, c.nullable) for c in wanted])
        base = {"$select": ",".join(selected)}
        if request.limit is not None:
            base["$top"] = str(request.limit)
        else:
            base["$inlinecount"] = "allpages"
        filters = self.filters(request.predicate, url, base)

        def batches() -> Iterator[pa.RecordBatch]:
            for text in filters:
                params = base if text is None else {**base, "$filter": text}
                yield from chained(functools.partial(self._fetch, url, params, first=True), self._following, decode)
            log.info("%s %s: %s", self.http.source, self.entity.name, self.quota.describe())

        def decode(body: bytes) -> pa.RecordBatch:
            decoded = decode_page(body, wanted)
            if decoded is not None:
                return decoded
            page = orjson.loads(body)["d"]
            # An endpoint that doesn't page answers {"d": [...]}.
            return batch(page if isinstance(page, list) else page["results"], wanted)

        return pa.RecordBatchReader.from_batches(schema, batches())

    def aggregate(self, request: AggregateRequest) -> pa.RecordBatchReader | None:
        """COUNT(*) from `$count` (`aggregates.py`), one call; anything else is aggregated by the engine."""
        url = f"{self._prefix()}/{self.entity.path}"
        params = count_params(request, self._types)
        if params is None or len(count_url(url, params)) > URL_CAP:
            return None
        body = self.http.request("GET", f"{url}/$count", operation=client.LIST, params=params or None).content
        return counted(request, body)

    def describe_request(self, request: ScanRequest | AggregateRequest) -> str:
        if isinstance(request, AggregateRequest):
            params = count_params(request, self._types)
            if params is not None:
                return f"GET {count_url('/' + self.entity.path, params)}"
        return super().describe_request(request)

    def filters(self, predicate: Predicate | None, url: str, params: dict[str, str]) -> list[str | None]:
        """`$filter` texts whose scans together return at least the rows of `predicate`, each URL under the cap."""
        text = compile_filter(predicate, self._types)
        if text is None or len(f"{url}?{urlencode({**params, '$filter': text})}") <= URL_CAP or predicate is None:
            return [text]
        conjuncts = list(predicate.operands) if isinstance(predicate, And) else [predicate]
        lists = [c for c in conjuncts if isinstance(c, InList) and not c.negated and len(c.values) > 1]
        if lists:
            longest = max(lists, key=lambda c: len(c.values))
            half = len(longest.values) // 2
            others = [c for c in conjuncts if c is not longest]
            return [
                f
                for part in (longest.values[:half], longest.values[half:])
                for f in self.filters(conjunction([*others, InList(longest.column, part)]), url, params)
            ]
        # Nothing to split: drop the longest conjunct (it only widens) until the rest fits.
        longest_text = max(conjuncts, key=lambda c: len(compile_filter(c, self._types) or ""))
        return self.filters(conjunction([c for c in conjuncts if c is not longest_text]), url, params)

    def _fetch(self, target: str, query: dict[str, str] | None, *, first: bool = False) -> bytes:
        """One page's raw body; the first page's `__count` is checked against the daily quota first."""
        body = self.http.request("GET", target, operation=client.LIST, params=query).content
        count = _COUNT.search(body) if first else None
        if count is not None and _NEXT.search(body) is not None:
            # A page with a next link is full: what is left is the count less one page.
            self._check_daily(int(count.group(1)) - self.page_size)
        return body

    def _following(self, body: bytes) -> bytes | None:
        found = _NEXT.search(body)
        if found is None:
            return None
        target = self._same_origin(urljoin(self._prefix() + "/", found.group(1).decode().replace("\\/", "/")))
        return self._fetch(target, None)

    def _same_origin(self, url: str) -> str:
        # The bearer token goes only where the connection's own calls go.
        if urlsplit(url).netloc != urlsplit(self._prefix()).netloc:
            raise ProgrammingError(f"the API sent a next-page link to another host: {urlsplit(url).netloc}")
        return url

    def _check_daily(self, rows_left: int) -> None:
        daily = self.quota.daily
        pages = math.ceil(rows_left / self.page_size)
        if daily is not None and daily[0] < pages:
            when = datetime.datetime.fromtimestamp(daily[1], datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            raise QuotaExhausted(
                f"this scan of {self.entity.name} needs {pages} more calls and only {daily[0]} are left of "
                f"today's quota; it resets at {when}",
                source=self.http.source,
                resets_at=daily[1],
            )

    def deleted_after(self, cursor: str | None, since: datetime.datetime) -> FeedRead | None:
        """The records deleted since the last sync, from `sync/Deleted` (None: it can't tell; read the keys)."""
        kind = self.entity.deleted_type
        return None if kind is None else deleted.deleted_after(self.http, self._prefix(), kind, cursor, since)

    # -- writes ---------------------------------------------------------------------------------------------

    def key_url(self, key: object) -> str:
        edm = self._types[self.entity.key][1]
        return f"{self._prefix()}/{self.entity.path}({literal(edm, key) or key})"

    def insert(self, rows: pa.Table) -> WriteResult:
        keys: list[object] = []
        for position, row in enumerate(rows.to_pylist()):
            body = {self.info.column(k).api_name: json_value(v) for k, v in row.items()}
            try:
                keys.append(self.lost.create(body))
            except Error as error:
                unknown = isinstance(error, TransientError)
                raise self._failed("INSERT", position, len(rows), keys, error, unknown=unknown) from None
        return WriteResult(len(keys), tuple(keys))

    def post(self, body: dict[str, Any]) -> object:
        response = self.http.request(
            "POST",
            f"{self._prefix()}/{self.entity.path}",
            operation=client.CREATE,
            content=orjson.dumps(body),
            headers={"Content-Type": "application/json", "Prefer": "return=representation"},
        )
        key: object = orjson.loads(response.content)["d"][self.entity.key]
        return key

    def update(self, keys: Sequence[object], values: pa.Table) -> WriteResult:
        bodies = [
            orjson.dumps({self.info.column(k).api_name: json_value(v) for k, v in row.items()})
            for row in values.to_pylist()
        ]
        return self._by_key("UPDATE", keys, bodies)

    def delete(self, keys: Sequence[object]) -> WriteResult:
        return self._by_key("DELETE", keys, [None] * len(keys))

    def _by_key(self, kind: str, keys: Sequence[object], bodies: Sequence[bytes | None]) -> WriteResult:
        """PUT (a body) or DELETE each key's record; a record gone since its key was read changed nothing."""
        done: list[object] = []
        for position, (key, body) in enumerate(zip(keys, bodies, strict=True)):
            method, operation = ("PUT", client.UPDATE) if body is not None else ("DELETE", client.DELETE)
            extra: dict[str, Any] = {"content": body, "headers": {"Content-Type": "application/json"}} if body else {}
            try:
                self.http.request(method, self.key_url(key), operation=operation, **extra)
            except Error as error:
                if error.api_code == "404":
                    continue
                raise self._failed(kind, position, len(keys), done, error) from None
            done.append(key)
        return WriteResult(len(done), tuple(done))

    def _failed(
        self, kind: str, position: int, total: int, done: list[object], error: Error, *, unknown: bool = False
    ) -> WriteError:
        unsent = total - position - 1
        outcome = "its outcome is unknown" if unknown else "it was refused"
        return WriteError(
            f"{kind} {self.info.name} stopped at row {position + 1} ({outcome}): {len(done)} written, "
            f"{unsent} not sent; the API said: {error.message}",
            written=len(done),
            failures=[]
            if unknown
            else [RecordFailure(position, error.api_code or type(error).__name__, error.message)],
            unknown=1 if unknown else 0,
            keys=done,
            source=self.http.source,
            operation=f"{kind} {self.info.name}",
        )

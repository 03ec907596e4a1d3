"""The optional result cache (`CacheTTL`): what a scan or a pushed aggregate returned, kept for a while, so a
repeated query costs no API call.

A source with `CacheTTL` > 0 hands out its tables wrapped in `CachedTable`. Entries are keyed by the account
(the metadata cache's namespace: scheme, endpoint and user, never a secret), the table and the exact request
(columns, the predicate sent, limit and order), and live in one store per process, so every connection to the
same account shares them, as it shares the rate limiter. A write through duckfed to a table drops that table's
entries in the whole process, and a scan that was running when a write landed keeps nothing. Writes made by
other programs are not seen until the entry expires: that is why the cache is off by default.

Only a scan read to its end is kept (a LIMIT that closed the stream early leaves nothing behind), and the store
holds at most `MAX_BYTES` of Arrow data, dropping the oldest entries first; a single result larger than a quarter
of it is never kept.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from federation.table import AggregateRequest, ScanRequest, Table, TableInfo, WriteResult

#: Arrow bytes the process keeps at most.
MAX_BYTES = 256 * 2**20

#: Whose data an entry holds: (account namespace, table name in lower case).
Scope = tuple[str, str]


@dataclass
class _Entry:
    schema: pa.Schema
    batches: list[pa.RecordBatch]
    expires: float
    nbytes: int


class ResultStore:
    """Cached results of one process, with a byte budget and per-table invalidation."""

    def __init__(self, max_bytes: int = MAX_BYTES, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_bytes = max_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[Scope, Hashable], _Entry] = OrderedDict()
        self._bytes = 0
        #: Bumped by every write to a table: a scan that began before it must not store what it read.
        self._generations: dict[Scope, int] = {}

    def get(self, scope: Scope, request: Hashable) -> pa.RecordBatchReader | None:
        with self._lock:
            entry = self._entries.get((scope, request))
            if entry is None:
                return None
            if entry.expires <= self._clock():
                self._drop((scope, request))
                return None
            self._entries.move_to_end((scope, request))
            return pa.RecordBatchReader.from_batches(entry.schema, entry.batches)

    def generation(self, scope: Scope) -> int:
        with self._lock:
            return self._generations.get(scope, 0)

    def put(self, scope: Scope, request: Hashable, reader: pa.RecordBatchReader, ttl: float) -> pa.RecordBatchReader:
        """`reader`, passed through; kept once it is read to its end, unless the table was written meanwhile."""
        generation = self.generation(scope)

        def keeping() -> Iterator[pa.RecordBatch]:
            kept: list[pa.RecordBatch] = []
            size, keep = 0, True
            with reader:
                for batch in reader:
                    if keep:
                        size += batch.nbytes
                        kept.append(batch)
                        if size > self.max_bytes // 4:
                            keep, kept = False, []  # too big to keep: stream on
                    yield batch
            if keep:
                self._store(scope, request, _Entry(reader.schema, kept, self._clock() + ttl, size), generation)

        return pa.RecordBatchReader.from_batches(reader.schema, keeping())

    def invalidate(self, scope: Scope) -> None:
        """Forget every result of this table (it was just written)."""
        with self._lock:
            self._generations[scope] = self._generations.get(scope, 0) + 1
            for key in [k for k in self._entries if k[0] == scope]:
                self._drop(key)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _store(self, scope: Scope, request: Hashable, entry: _Entry, generation: int) -> None:
        with self._lock:
            if self._generations.get(scope, 0) != generation:
                return
            self._drop((scope, request))
            self._entries[(scope, request)] = entry
            self._bytes += entry.nbytes
            while self._bytes > self.max_bytes and self._entries:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: tuple[Scope, Hashable]) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry.nbytes


#: The process's store.
STORE = ResultStore()


def _hashable(request: object) -> bool:
    try:
        hash(request)
    except TypeError:
        return False
    return True


class CachedTable(Table):
    """A source table whose scans and pushed aggregates are served from `STORE` within `ttl` seconds, and whose
    writes drop what the store holds of it. Everything else is the wrapped table's."""

    def __init__(self, table: Table, account: str, ttl: float, store: ResultStore = STORE) -> None:
        self.wrapped = table
        self.ttl = ttl
        self.store = store
        self.scope: Scope = (account, table.info.name.lower())

    @property
    def info(self) -> TableInfo:
        return self.wrapped.info

    def scan(self, request: ScanRequest) -> pa.RecordBatchReader:
        if not _hashable(request):
            return self.wrapped.scan(request)
        found = self.store.get(self.scope, request)
        if found is not None:
            return found
        return self.store.put(self.scope, request, self.wrapped.scan(request), self.ttl)

    def aggregate(self, request: AggregateRequest) -> pa.RecordBatchReader | None:
        if not _hashable(request):
            return self.wrapped.aggregate(request)
        found = self.store.get(self.scope, request)
        if found is not None:
            return found
        computed = self.wrapped.aggregate(request)
        return None if computed is None else self.store.put(self.scope, request, computed, self.ttl)

    def describe_request(self, request: ScanRequest | AggregateRequest) -> str:
        return self.wrapped.describe_request(request)

    def expected_calls(self, request: ScanRequest, rows: int | None) -> int | None:
        return self.wrapped.expected_calls(request, rows)

    def insert(self, rows: pa.Table) -> WriteResult:
        return self._written(self.wrapped.insert, rows)

    def update(self, keys: Sequence[object], values: pa.Table) -> WriteResult:
        return self._written(self.wrapped.update, keys, values)

    def delete(self, keys: Sequence[object]) -> WriteResult:
        return self._written(self.wrapped.delete, keys)

    def upsert(self, key: str, rows: pa.Table) -> WriteResult:
        return self._written(self.wrapped.upsert, key, rows)

    def _written(self, write: Callable[..., WriteResult], *args: Any) -> WriteResult:
        # Dropped before (a scan racing the write keeps nothing) and after (in case one stored meanwhile), and
        # also when the write fails: some records may have been written.
        self.store.invalidate(self.scope)
        try:
            return write(*args)
        finally:
            self.store.invalidate(self.scope)

    def __getattr__(self, name: str) -> Any:
        # What a connector's table offers beyond the contract (a deletion feed, say) stays reachable.
        return getattr(self.wrapped, name)

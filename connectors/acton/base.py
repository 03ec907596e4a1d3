"""What every Act-On table shares: its HTTP client and info, JSON calls, and how a write that stops is reported."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson
import pyarrow as pa

from connectors.acton import client
from federation.errors import Error, RecordFailure, TransientError, WriteError
from federation.http import HttpClient, Operation
from federation.predicates import Predicate, columns_of
from federation.table import Column, ScanRequest, Table, TableInfo, WriteResult

#: Values looked up one call each at most; beyond this a scan of the whole collection is cheaper.
MAX_LOOKUPS = 25


class ActOnTable(Table):
    def __init__(self, http: HttpClient, info: TableInfo) -> None:
        self.http = http
        self._info = info

    @property
    def info(self) -> TableInfo:
        return self._info

    def call(self, method: str, path: str, operation: Operation, **kwargs: Any) -> Any:
        """The JSON body of one API call."""
        return orjson.loads(self.raw(method, path, operation, **kwargs))

    def raw(self, method: str, path: str, operation: Operation, **kwargs: Any) -> bytes:
        """The body of one API call, as sent."""
        return self.http.request(method, path, operation=operation, **kwargs).content

    def wanted(self, request: ScanRequest) -> list[Column]:
        return [self.info.column(name) for name in request.columns]

    def schema(self, columns: Sequence[Column]) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type, c.nullable) for c in columns])

    def each_key(self, kind: str, keys: Sequence[object], send: Callable[[int, object], bool]) -> WriteResult:
        """Write record by record: `send(position, key)` makes the call (False: nothing to send for it). A record
        the API no longer has was deleted since its key was read, or by a re-sent call: it is not counted."""
        done: list[object] = []
        for position, key in enumerate(keys):
            try:
                if not send(position, key):
                    continue
            except Error as error:
                if client.is_not_found(error):
                    continue
                raise self.failed(kind, position, len(keys), done, error) from None
            done.append(key)
        return WriteResult(len(done), tuple(done))

    def failed(self, kind: str, position: int, total: int, done: Sequence[object], error: Error) -> WriteError:
        """The error for a write that stopped at row `position`: what was written, what failed, what wasn't sent.

        A transient failure of a call that is not safe to repeat leaves its record unknown: it may have been
        written before the reply was lost."""
        unknown = 1 if isinstance(error, TransientError) else 0
        unsent = total - position - 1
        lost = f"; row {position + 1} may or may not be written ({error.message})" if unknown else ""
        return WriteError(
            f"{kind} {self.info.name} stopped at row {position + 1}: {len(done)} written, {unsent} not sent{lost}",
            written=len(done),
            failures=[]
            if unknown
            else [RecordFailure(position, error.api_code or type(error).__name__, error.message)],
            unknown=unknown,
            keys=done,
            source=self.http.source,
            operation=f"{kind} {self.info.name}",
        )


def reads(request: ScanRequest) -> set[str]:
    """Every column the scan hands out or its predicate reads."""
    return {*request.columns, *_predicate_columns(request.predicate)}


def _predicate_columns(predicate: Predicate | None) -> Iterable[str]:
    return columns_of(predicate) if predicate is not None else ()

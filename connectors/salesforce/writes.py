"""Writes to an sObject through sObject Collections (`/composite/sobjects`): 200 records a call, per-record
results, and the rules that keep a retried write from doing anything twice.

What each endpoint may repeat:

- **create** (`POST`) is never re-sent once it may have reached the API. When its response is lost (a 5xx or a
  dropped connection), the records it may have created are looked for — created since the call by the API's
  clock, not created by an earlier call of this process, holding the values sent — and a row is re-sent only
  when that search proves it was not created. Anything the search can't settle is reported as unknown.
- **update** (`PATCH`) sets the same values again when repeated, so the HTTP client retries it as it is.
- **delete** (`DELETE`) is repeated after a lost response; a record it then finds already deleted
  (ENTITY_IS_DELETED) was deleted by the lost attempt, and counts as deleted.

`AllOrNone` (default true) makes each call all-or-nothing, and the first call the API refuses ends the
statement: the rows before it are written, its rows and the ones after are not, and the error says so. With
`AllOrNone=false` every record the API accepts is written and the error lists the ones it refused.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import pyarrow as pa

from connectors.salesforce.bulk_writes import BulkWriter
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.lost_creates import CREATED, LostCreates
from federation.errors import DataError, Error, RecordFailure, TransientError, WriteError
from federation.http import Operation
from federation.table import Column, Table, WriteResult

#: Records per sObject Collections call, the API's limit.
MAX_RECORDS = 200
#: The API's answer for records of an all-or-none call that failed only because another record did.
ROLLED_BACK = "ALL_OR_NONE_OPERATION_ROLLED_BACK"
_DELETED = "ENTITY_IS_DELETED"
#: A delete's target that no longer exists at all (emptied from the recycle bin).
_MISSING = "INVALID_CROSS_REFERENCE_KEY"


class _Progress:
    """What one statement has written so far, and why it stopped if it did."""

    def __init__(self, total: int, verb: str, *, selected: bool = False) -> None:
        self.total = total
        self.verb = verb
        #: Whether the positions are of records an UPDATE or DELETE selected (not rows the statement gave).
        self.selected = selected
        self.written: dict[int, str] = {}
        self.failures: list[RecordFailure] = []
        self.unknown: list[int] = []
        self.notes: list[str] = []
        self.cause: Error | None = None
        self.refused: Error | None = None
        self.stopped_at: int | None = None

    def refuse(self, positions: Sequence[int], error: Error) -> None:
        """The API refused a whole call (it answered, so it wrote none of it)."""
        self.notes.append(
            f"the API refused the call for {self.rows(positions)} and wrote none of them ({error.message})"
        )
        self.cause = self.refused = error

    def rows(self, positions: Sequence[int]) -> str:
        """`rows 401-600` (1-based) for contiguous positions, else `rows 3, 9, 12`; for the records an UPDATE or
        DELETE selected, `records 1-200 of the 450 selected`."""
        noun = "record" if self.selected else "row"
        if len(positions) == 1:
            text = f"{noun} {positions[0] + 1:,}"
        elif positions[-1] - positions[0] + 1 == len(positions):
            text = f"{noun}s {positions[0] + 1:,}-{positions[-1] + 1:,}"
        else:
            text = f"{noun}s " + ", ".join(f"{p + 1:,}" for p in positions)
        return f"{text} of the {self.total:,} selected" if self.selected else text

    def finish(self, kind: str, source: str, table: str) -> WriteResult:
        keys = tuple(self.written[p] for p in sorted(self.written))
        if not (self.failures or self.unknown or self.notes):
            return WriteResult(len(keys), keys)
        if self.refused is not None and not keys and len(self.notes) == 1 and not self.failures and not self.unknown:
            raise self.refused  # the first call was refused, so nothing was written: the API's own error says it best
        parts = [f"{self.verb} {len(keys):,} of {self.total:,} records", *self.notes]
        if self.stopped_at is not None and self.stopped_at < self.total:
            parts.append(f"{self.rows(range(self.stopped_at, self.total))} were not sent")
        if self.failures:
            parts.append("the API's reasons:")
        raise WriteError(
            "; ".join(parts),
            written=len(keys),
            failures=self.failures,
            unknown=len(self.unknown),
            keys=keys,
            source=source,
            operation=f"{kind} {table}",
        ) from self.cause


class SObjectWriter:
    """Batch writes to one sObject. `table` is the object's table, which the search after a lost create scans."""

    def __init__(self, client: SalesforceClient, table: Table, *, all_or_none: bool) -> None:
        self.client = client
        self.table = table
        self.all_or_none = all_or_none
        self.name = table.info.name
        self._search = LostCreates(client, table)
        #: Large writes go through one Bulk API 2.0 ingest job when that costs fewer calls (`bulk_writes`).
        self.bulk: BulkWriter | None = None

    # -- the three operations ---------------------------------------------------------------------------------

    def insert(self, rows: pa.Table) -> WriteResult:
        if self.bulk is not None and (by_job := self.bulk.insert(rows)) is not None:
            return by_job
        records = self._records(rows)
        progress = _Progress(len(records), "created")
        for start in range(0, len(records), MAX_RECORDS):
            done = self._create(list(range(start, min(start + MAX_RECORDS, len(records)))), records, rows, progress)
            # Known as ours at once, so the search after a lost later call of this statement leaves them out.
            CREATED.add(self._search.scope, list(progress.written.values()))
            if not done:
                progress.stopped_at = start + MAX_RECORDS
                break
        return progress.finish("INSERT", self.client.http.source, self.name)

    def update(self, keys: Sequence[object], values: pa.Table) -> WriteResult:
        if self.bulk is not None and (by_job := self.bulk.update(keys, values)) is not None:
            return by_job
        records = self._records(values)
        for record, key in zip(records, keys, strict=True):
            record["id"] = key
        return self._by_key("UPDATE", "updated", [str(k) for k in keys], records)

    def delete(self, keys: Sequence[object]) -> WriteResult:
        if self.bulk is not None and (by_job := self.bulk.delete(keys)) is not None:
            return by_job
        return self._by_key("DELETE", "deleted", [str(k) for k in keys], None)

    def upsert(self, key: str, rows: pa.Table) -> WriteResult:
        """Upsert by the external-Id field `key`, 200 records a call, through `PATCH /composite/sobjects/{type}/
        {field}` (REST API Developer Guide, "Upsert Up to 200 Records Using an External ID", API 46.0+). A repeated
        call finds the records an earlier attempt created by their external Ids and sets the same values, so the
        HTTP client re-sends it as it is, and so may a whole job run again."""
        if self.bulk is not None and (by_job := self.bulk.upsert(key, rows)) is not None:
            return by_job
        url = f"{self._url}/{self.name}/{self.table.info.column(key).api_name}"
        records = self._records(rows)
        progress = _Progress(len(records), "upserted")
        for start in range(0, len(records), MAX_RECORDS):
            positions = list(range(start, min(start + MAX_RECORDS, len(records))))
            try:
                body = self._body([records[p] for p in positions])
                results = self._send("PATCH", "upsert", idempotent=True, url=url, content=body)
            except TransientError as error:
                progress.unknown.extend(positions)
                progress.notes.append(
                    f"the outcome of {progress.rows(positions)} is unknown: their call failed ({error.message}); "
                    "repeating the write is safe"
                )
                progress.cause = error
            except Error as error:
                progress.refuse(positions, error)
            else:
                if self._settle(positions, results, progress, None, done=set(), gone=set()) is not None:
                    continue
            progress.stopped_at = start + MAX_RECORDS
            break
        return progress.finish("UPSERT", self.client.http.source, self.name)

    def _by_key(self, kind: str, verb: str, keys: list[str], records: list[dict[str, Any]] | None) -> WriteResult:
        progress = _Progress(len(keys), verb, selected=True)
        for start in range(0, len(keys), MAX_RECORDS):
            positions = list(range(start, min(start + MAX_RECORDS, len(keys))))
            if not self._change(positions, keys, records, progress):
                progress.stopped_at = start + MAX_RECORDS
                break
        return progress.finish(kind, self.client.http.source, self.name)

    # -- calls ------------------------------------------------------------------------------------------------

    @property
    def _url(self) -> str:
        return f"{self.client.data_path}/composite/sobjects"

    def _body(self, records: list[dict[str, Any]]) -> bytes:
        typed = [{"attributes": {"type": self.name}, **r} for r in records]
        return orjson.dumps({"allOrNone": self.all_or_none, "records": typed})

    def _send(
        self, method: str, operation: str, *, idempotent: bool, url: str | None = None, **kwargs: Any
    ) -> list[dict[str, Any]]:
        response = self.client.http.request(
            method,
            url or self._url,
            operation=Operation(f"{operation} {self.name}", idempotent=idempotent),
            headers={"Content-Type": "application/json"},
            **kwargs,
        )
        results: list[dict[str, Any]] = orjson.loads(response.content)
        return results

    def _create(self, positions: list[int], records: list[dict[str, Any]], rows: pa.Table, progress: _Progress) -> bool:
        """Create these rows; False when the statement must stop here."""
        pending = positions
        attempts = self.client.http.retry.attempts
        for attempt in range(attempts):
            sent_at = datetime.datetime.now(datetime.UTC)
            try:
                body = self._body([records[p] for p in pending])
                results = self._send("POST", "create", idempotent=False, content=body)
            except TransientError as error:
                # The API may have created them: find out before sending anything again.
                time.sleep(self.client.http.retry.delay(attempt, error.retry_after))
                settled = self._search.settle(pending, rows, sent_at)
                if settled is None:
                    progress.unknown.extend(pending)
                    progress.notes.append(
                        f"{progress.rows(pending)} may or may not have been created: the response to their call "
                        f"was lost ({error.message}) and the records created since could not be told apart"
                    )
                    progress.cause = error
                    return False
                found, pending = settled
                progress.written.update(found)
                if not pending:
                    return True
                if attempt + 1 == attempts:
                    progress.notes.append(
                        f"{progress.rows(pending)} were not created: {attempts} calls failed ({error.message})"
                    )
                    progress.cause = error
                    return False
                continue
            except Error as error:
                progress.refuse(pending, error)
                return False
            return self._settle(pending, results, progress, None, done=set(), gone=set()) is not None
        return False

    def _change(
        self, positions: list[int], keys: list[str], records: list[dict[str, Any]] | None, progress: _Progress
    ) -> bool:
        """Update (with `records`) or delete the records at these positions; False when the statement must stop."""
        pending = positions
        repeated = False
        while pending:
            try:
                if records is None:
                    # A delete's first attempt is sent once by the client, so a repeat is known to be one.
                    params = {"ids": ",".join(keys[p] for p in pending), "allOrNone": str(self.all_or_none).lower()}
                    results = self._send("DELETE", "delete", idempotent=repeated, params=params)
                else:
                    body = self._body([records[p] for p in pending])
                    results = self._send("PATCH", "update", idempotent=True, content=body)
            except TransientError as error:
                if records is None and not repeated:
                    repeated = True
                    time.sleep(self.client.http.retry.delay(0, error.retry_after))
                    continue
                progress.unknown.extend(pending)
                progress.notes.append(
                    f"the outcome of {progress.rows(pending)} is unknown: their call failed ({error.message}); "
                    "repeating the statement is safe"
                )
                progress.cause = error
                return False
            except Error as error:
                progress.refuse(pending, error)
                return False
            if records is None:
                # Deleted already: by the lost attempt when this is a repeat, else by someone else (not counted).
                done, gone = ({_DELETED}, {_MISSING}) if repeated else (set(), {_DELETED, _MISSING})
            else:
                done, gone = set(), {_DELETED}
            rolled_back = self._settle(pending, results, progress, keys, done=done, gone=gone)
            if rolled_back is None:
                return False
            # An all-or-none call that failed only for records gone or done rolled the others back: send them again.
            pending = rolled_back
        return True

    def _settle(
        self,
        positions: list[int],
        results: list[dict[str, Any]],
        progress: _Progress,
        keys: list[str] | None,
        *,
        done: set[str],
        gone: set[str],
    ) -> list[int] | None:
        """Record each result: a success or a `done` code is written (under its key, or the Id the API gave), a
        `gone` code is nothing, anything else is a failure. The positions rolled back only because of gone or
        done records, or None when the API refused an all-or-none call."""
        refused: list[RecordFailure] = []
        rolled_back: list[int] = []
        for position, result in zip(positions, results, strict=True):
            codes = _record_codes(result)
            if result.get("success") or (codes and codes <= done):
                progress.written[position] = keys[position] if keys is not None else str(result["id"])
            elif codes == {ROLLED_BACK}:
                rolled_back.append(position)
            elif not (codes and codes <= gone | {ROLLED_BACK}):
                # An UPDATE's or DELETE's positions are of the records it selected: name the record too.
                about = f"record {keys[position]}: " if keys is not None else ""
                refused.extend(
                    RecordFailure(
                        position,
                        str(e.get("statusCode", "")),
                        about + str(e.get("message", "")),
                        tuple(e.get("fields") or ()),
                    )
                    for e in result.get("errors") or ()
                    if e.get("statusCode") != ROLLED_BACK
                )
        progress.failures.extend(refused)
        if refused and self.all_or_none:
            count = len({failure.position for failure in refused})
            progress.notes.append(
                f"the API refused {count:,} of {progress.rows(positions)} and so wrote none of them (AllOrNone)"
            )
            return None
        return [] if refused else rolled_back

    # -- values -----------------------------------------------------------------------------------------------

    def _records(self, rows: pa.Table) -> list[dict[str, Any]]:
        """One JSON-ready dict per row, keyed by the fields' API names; an explicit null clears a field."""
        info = self.table.info
        columns = {name: _encoder(info.column(name)) for name in rows.column_names}
        converted = {
            info.column(name).api_name: [encode(v) for v in rows.column(name).to_pylist()]
            for name, encode in columns.items()
        }
        return [{name: values[i] for name, values in converted.items()} for i in range(rows.num_rows)]


def _record_codes(result: dict[str, Any]) -> set[str]:
    """The codes of a result's errors about the record itself. An error about one of its fields (a lookup to a
    deleted record is ENTITY_IS_DELETED too) is never mistaken for one: it is named `FIELD_ERROR`."""
    return {"FIELD_ERROR" if e.get("fields") else str(e.get("statusCode", "")) for e in result.get("errors") or ()}


def _comparable(value: object) -> object:
    """A value as the API stores it: datetimes and times to the millisecond."""
    if isinstance(value, datetime.datetime | datetime.time):
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value


def _encoder(column: Column) -> Callable[[Any], Any]:
    """How a column's Python values are written in JSON: numbers exact, dates ISO, datetimes in UTC."""
    kind = column.type

    def decimal(value: Any) -> Any:
        return None if value is None else orjson.Fragment(format(value, "f"))

    def number(value: Any) -> Any:
        if value is not None and (value != value or value in (float("inf"), float("-inf"))):
            raise DataError(f"{value} can't be stored in {column.name!r}: the API takes only finite numbers")
        return value

    def stamp(value: Any) -> Any:
        if value is None:
            return None
        moment = value.astimezone(datetime.UTC) if value.tzinfo else value
        return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"

    def clock(value: Any) -> Any:
        return None if value is None else f"{value:%H:%M:%S}.{value.microsecond // 1000:03d}Z"

    def plain(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime.date) else value

    if pa.types.is_decimal(kind):
        return decimal
    if pa.types.is_floating(kind):
        return number
    if pa.types.is_timestamp(kind):
        return stamp
    if pa.types.is_time(kind):
        return clock
    return plain

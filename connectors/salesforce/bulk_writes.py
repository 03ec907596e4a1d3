"""Large INSERT, UPDATE and DELETE statements through one Bulk API 2.0 ingest job, mapped back row by row.

An ingest job answers with `successfulResults` (sf__Id, sf__Created, then the row as uploaded) and
`failedResults` (sf__Id, sf__Error, then the row), in no guaranteed order ("Get Job Successful Record Results",
Usage Notes). So each result is matched to the statement's row by what was uploaded: an UPDATE's or DELETE's row by
its Id, an INSERT's by its whole CSV text (identical rows are interchangeable, so the keys they get are too).

A job has no all-or-none: each record is written or refused on its own, as with `AllOrNone=false` — so Bulk is used
only under that setting. Values an upload can't carry (a text equal to `#N/A`, which reads as null) send the
statement through sObject Collections instead.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Sequence

import pyarrow as pa

from connectors.salesforce.bulk import BulkJobs, BulkPolicy
from connectors.salesforce.bulk_csv import NULL, Unencodable, encode_rows, encoder
from federation.errors import RecordFailure, WriteError
from federation.table import Table, WriteResult

#: Records sObject Collections carries a call: what Bulk is compared with.
COLLECTION_RECORDS = 200
_DELETED = "ENTITY_IS_DELETED"
_MISSING = "INVALID_CROSS_REFERENCE_KEY"
#: Finds the statement's row a result row (sf__ columns, then the row as uploaded) is about.
Locate = Callable[[list[str]], int | None]


class BulkWriter:
    """Ingest-job writes to one sObject; each method answers None when the write is better sent otherwise."""

    def __init__(self, jobs: BulkJobs, table: Table, policy: BulkPolicy, *, all_or_none: bool) -> None:
        self.jobs = jobs
        self.table = table
        self.policy = policy
        self.all_or_none = all_or_none

    def _chosen(self, records: int) -> bool:
        return not self.all_or_none and self.policy.write(records, COLLECTION_RECORDS)

    def _lines(self, rows: pa.Table, null: str) -> tuple[list[str], list[list[str]]] | None:
        info = self.table.info
        columns = [info.column(name) for name in rows.column_names]
        try:
            encoded = [
                [encode(v) for v in rows.column(i).to_pylist()]
                for i, encode in enumerate(encoder(c, null=null) for c in columns)
            ]
        except Unencodable:
            return None
        return [c.api_name for c in columns], [list(values) for values in zip(*encoded, strict=True)]

    def insert(self, rows: pa.Table) -> WriteResult | None:
        if not self._chosen(rows.num_rows):
            return None
        lines = self._lines(rows, null="")
        if lines is None:
            return None
        header, body = lines
        position_of = _by_text(body)
        return self._run("insert", "INSERT", "created", header, body, position_of, gone=set())

    def upsert(self, key: str, rows: pa.Table) -> WriteResult | None:
        """Upsert by the external-Id field `key` ("Create a Job": operation upsert, externalIdFieldName): like the
        collections' upsert, a job run again finds the records the first run created, so a retry never duplicates.
        A null is written `#N/A`, so it clears a field as the collections' JSON null does."""
        if not self._chosen(rows.num_rows):
            return None
        lines = self._lines(rows, null=NULL)
        if lines is None:
            return None
        header, body = lines
        position_of = _by_text(body)
        external = self.table.info.column(key).api_name
        return self._run("upsert", "UPSERT", "upserted", header, body, position_of, gone=set(), external_id=external)

    def update(self, keys: Sequence[object], values: pa.Table) -> WriteResult | None:
        if not self._chosen(len(keys)):
            return None
        lines = self._lines(values, null=NULL)
        if lines is None:
            return None
        header, body = lines
        body = [[str(key), *line] for key, line in zip(keys, body, strict=True)]
        return self._by_key("update", "UPDATE", "updated", ["Id", *header], body, gone={_DELETED})

    def delete(self, keys: Sequence[object]) -> WriteResult | None:
        if not self._chosen(len(keys)):
            return None
        body = [[str(key)] for key in keys]
        return self._by_key("delete", "DELETE", "deleted", ["Id"], body, gone={_DELETED, _MISSING})

    def _by_key(
        self, operation: str, kind: str, verb: str, header: list[str], body: list[list[str]], gone: set[str]
    ) -> WriteResult:
        by_id = {line[0]: position for position, line in enumerate(body)}
        by_id.update({line[0][:15]: position for position, line in enumerate(body)})

        def position_of(row: list[str]) -> int | None:
            # The row as uploaded starts with its Id (sf__Id may be empty for a record not found).
            return by_id.get(row[2]) if len(row) > 2 else None

        return self._run(operation, kind, verb, header, body, position_of, gone=gone)

    def _run(
        self,
        operation: str,
        kind: str,
        verb: str,
        header: list[str],
        body: list[list[str]],
        position_of: Locate,
        *,
        gone: set[str],
        external_id: str | None = None,
    ) -> WriteResult:
        name = self.table.info.name
        info, files = self.jobs.ingest(name, operation, encode_rows(header, body), external_id)
        written: dict[int, str] = {}
        failures: list[RecordFailure] = []
        vanished = 0
        for row in _rows(files.get("successfulResults", b"")):
            position = position_of(row)
            if position is not None:
                written[position] = row[0]
        for row in _rows(files.get("failedResults", b"")):
            position = position_of(row)
            if position is None:
                continue
            code, message, fields = _error(row[1])
            if code in gone:  # deleted already (not by this statement): nothing to write, nothing failed
                vanished += 1
                continue
            about = f"record {body[position][0]}: " if operation in ("update", "delete") else ""
            failures.append(RecordFailure(position, code, about + message, fields))
        failures.sort(key=lambda failure: failure.position)
        # Rows in neither file were not processed (the job stopped): they may be retried, never assumed.
        unknown = max(0, len(body) - len(written) - len(failures) - vanished)
        keys = tuple(written[p] for p in sorted(written))
        if not failures and not unknown:
            return WriteResult(len(keys), keys)
        parts = [f"{verb} {len(keys):,} of {len(body):,} records by Bulk API job {info.get('id')}"]
        if info.get("state") != "JobComplete":
            parts.append(f"the job ended {info.get('state')}: {info.get('errorMessage') or 'no reason given'}")
        if unknown:
            parts.append(f"{unknown:,} records are in neither of its result files (not processed)")
        if failures:
            parts.append("the API's reasons:")
        raise WriteError(
            "; ".join(parts),
            written=len(keys),
            failures=failures,
            unknown=unknown,
            keys=keys,
            source=self.jobs.http.source,
            operation=f"{kind} {name}",
        )


def _rows(data: bytes) -> list[list[str]]:
    """A result file's rows, without its header."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    return [row for row in rows[1:] if row]


def _error(text: str) -> tuple[str, str, tuple[str, ...]]:
    """(code, message, fields) of an sf__Error, `CODE:message:Field1,Field2 --`."""
    code, _, rest = text.partition(":")
    rest = rest.removesuffix(" --").removesuffix("--").rstrip()
    message, sep, fields = rest.rpartition(":")
    if not sep:
        return code, rest, ()
    names = tuple(f for f in fields.split(",") if f)
    return code, message, names


def _by_text(body: list[list[str]]) -> Locate:
    """Where a result row (`sf__Id`, `sf__Created`, then the row as uploaded) came from: the API echoes each row's
    text and may return them in any order, and identical rows are interchangeable, so each text is a queue."""
    waiting: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for position, line in enumerate(body):
        waiting[tuple(line)].append(position)

    def position_of(row: list[str]) -> int | None:
        queue = waiting.get(tuple(row[2:]))
        return queue.pop(0) if queue else None

    return position_of

"""Bulk API 2.0 (``/jobs/query`` and ``/jobs/ingest``): asynchronous query and ingest jobs with CSV data.

From the "Bulk API 2.0 and Bulk API Developer Guide" (developer.salesforce.com, api_asynch):

- A query job (``POST /jobs/query`` {operation: query|queryAll, query}) starts as UploadComplete, moves to
  InProgress and ends JobComplete (or Failed/Aborted); ``GET /jobs/query/{id}`` reports the state, and
  ``GET /jobs/query/{id}/results?maxRecords=N&locator=L`` returns the rows as CSV with a header row, the
  ``Sforce-NumberOfRecords`` and ``Sforce-Locator`` headers, the locator being the literal "null" at the end.
- An ingest job (``POST /jobs/ingest`` {object, operation, externalIdFieldName, contentType, lineEnding}) starts
  Open; ``PUT /jobs/ingest/{id}/batches`` uploads CSV (201), ``PATCH /jobs/ingest/{id}`` {state: UploadComplete}
  starts processing (Aborted abandons it, its data unprocessed); ``GET /jobs/ingest`` lists jobs; the results are
  ``successfulResults`` (sf__Id, sf__Created + the row as sent), ``failedResults`` (sf__Id, sf__Error + the row)
  and ``unprocessedrecords`` — in no guaranteed order ("Get Job Successful Record Results", Usage Notes), which
  the emulator makes visible by shuffling them (deterministically).
- CSV ("Prepare CSV Files", "Valid CSV Record Rows"): fields containing the delimiter, a quote or a line break
  are quoted with ", a quote doubled; an empty field is null (ignored by an update), ``#N/A`` sets a field to
  null; booleans true/false, dates ISO.

Records are processed one by one, each committed or failed on its own (a job has no all-or-none). UNCONFIRMED
wire details: a query the SOQL parser rejects fails the create call with HTTP 400 and the query API's error code;
an ingest row's sf__Error reads ``CODE:message:fields --``; query result values are all quoted, nulls left empty.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from federation.emulation.server import Reply, json_reply

from . import ids, writes
from .bulk_csv import flatten, locator_of, offset_of, parse_csv, render_csv, render_records
from .calls import Call
from .errors import ApiError
from .model import Record
from .soql import SoqlError, execute, parse
from .soql.ast import FieldRef
from .store import Store

#: Bulk jobs are 18-character Ids with this key prefix.
JOB_PREFIX = "750"
#: The documented limits of one results request, and of one upload (150 MB base64, so about 100 MB of CSV).
MAX_RESULT_RECORDS = 1_000_000
DEFAULT_RESULT_RECORDS = 50_000
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
_CSV = "text/csv"
_DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
_LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
_INGEST_OPERATIONS = frozenset({"insert", "update", "delete", "upsert"})


@dataclass
class _Job:
    """One job and what it holds: for a query its result rows, for an ingest job its uploads and results."""

    info: dict[str, Any]
    delimiter: str
    line_ending: str
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    #: A query job's result records, rendered chunk by chunk as they are read.
    records: Sequence[Mapping[str, Any]] = ()
    uploads: list[bytes] = field(default_factory=list)
    successes: list[list[str]] = field(default_factory=list)
    failures: list[list[str]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)
    polls_left: int = 0


class Bulk:
    """The Bulk API 2.0 resources of one emulator. `processing_polls` is how many polls a job answers InProgress
    before it completes (0: complete at the first poll); `chunk_records` caps the records of one results chunk
    below `maxRecords`, as the platform's size limits do ("Get Results for a Query Job")."""

    def __init__(self, store: Store, now: Callable[[], str]) -> None:
        self.store = store
        self.now = now
        self.processing_polls = 0
        self.chunk_records = MAX_RESULT_RECORDS
        #: An ingest job fails after processing this many records (None: never), its other records unprocessed.
        self.fail_after: int | None = None
        self._jobs: dict[str, _Job] = {}
        self._serial = 0
        self._lock = threading.Lock()

    def handlers(self) -> dict[str, Callable[[Call], Reply]]:
        """Handlers by the kinds `ROUTES` names."""
        return {
            "bulk_query_create": self._create_query,
            "bulk_query_list": lambda call: self._list(call, "V2Query"),
            "bulk_query_job": self._job_info,
            "bulk_query_state": self._set_state,
            "bulk_query_results": self._results,
            "bulk_ingest_create": self._create_ingest,
            "bulk_ingest_list": lambda call: self._list(call, "V2Ingest"),
            "bulk_ingest_job": self._job_info,
            "bulk_ingest_state": self._set_state,
            "bulk_ingest_upload": self._upload,
            "bulk_ingest_successful": lambda call: self._record_results(call, "successes"),
            "bulk_ingest_failed": lambda call: self._record_results(call, "failures"),
            "bulk_ingest_unprocessed": lambda call: self._record_results(call, "unprocessed"),
        }

    # -- jobs -----------------------------------------------------------------------------------------------

    def _new_job(self, call: Call, body: Mapping[str, Any], info: dict[str, Any]) -> _Job:
        delimiter_name = str(body.get("columnDelimiter") or "COMMA")
        ending_name = str(body.get("lineEnding") or "LF")
        if delimiter_name not in _DELIMITERS or ending_name not in _LINE_ENDINGS:
            raise ApiError(400, "INVALIDJOB", "InvalidJob : columnDelimiter or lineEnding is not supported")
        with self._lock:
            self._serial += 1
            job_id = ids.make_id(JOB_PREFIX, self._serial)
        stamp = self.now()
        info = {
            "id": job_id,
            **info,
            "createdById": call.user_id,
            "createdDate": stamp,
            "systemModstamp": stamp,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(call.prefix.rsplit("/v", 1)[-1]),
            "lineEnding": ending_name,
            "columnDelimiter": delimiter_name,
        }
        job = _Job(info, _DELIMITERS[delimiter_name], _LINE_ENDINGS[ending_name], polls_left=self.processing_polls)
        with self._lock:
            self._jobs[job_id] = job
        return job

    def _job(self, call: Call, job_type: str) -> _Job:
        canonical = ids.normalize(call.parts[2])
        job = self._jobs.get(canonical or "")
        if job is None or job.info["jobType"] != job_type:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    @staticmethod
    def _type_of(call: Call) -> str:
        return "V2Query" if call.parts[1] == "query" else "V2Ingest"

    def _job_info(self, call: Call) -> Reply:
        job = self._job(call, self._type_of(call))
        with self._lock:
            if job.info["state"] in ("UploadComplete", "InProgress"):
                if job.polls_left > 0:
                    job.polls_left -= 1
                    job.info["state"] = "InProgress"
                else:
                    self._finish(job)
        return json_reply(200, job.info)

    def _list(self, call: Call, job_type: str) -> Reply:
        records = [job.info for job in self._jobs.values() if job.info["jobType"] == job_type]
        return json_reply(200, {"done": True, "records": records, "nextRecordsUrl": None})

    def _set_state(self, call: Call) -> Reply:
        job = self._job(call, self._type_of(call))
        body = call.json()
        state = body.get("state") if isinstance(body, dict) else None
        with self._lock:
            current = job.info["state"]
            if state == "Aborted" and current in ("Open", "UploadComplete", "InProgress"):
                job.info["state"] = "Aborted"
                job.unprocessed = [row for upload in job.uploads for row in parse_csv(upload, job.delimiter)[1]]
            elif state == "UploadComplete" and current == "Open" and job.info["jobType"] == "V2Ingest":
                job.info["state"] = "UploadComplete"
            else:
                raise ApiError(409, "INVALIDJOBSTATE", f"Job is in {current} state and can't be set to {state}")
            job.info["systemModstamp"] = self.now()
        return json_reply(200, job.info)

    def _finish(self, job: _Job) -> None:
        """Process a job (under the lock): a query job has its rows already; an ingest job writes its records."""
        job.info["state"] = "JobComplete"
        if job.info["jobType"] == "V2Ingest":
            self._ingest(job)
        job.info["systemModstamp"] = self.now()

    # -- query jobs -----------------------------------------------------------------------------------------

    def _create_query(self, call: Call) -> Reply:
        body = call.json()
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise ApiError(400, "INVALIDJOB", "InvalidJob : a query is required")
        operation = body.get("operation", "query")
        if operation not in ("query", "queryAll"):
            raise ApiError(400, "INVALIDJOB", f"InvalidJob : operation {operation} is not supported")
        try:
            parsed = parse(body["query"])
            if parsed.offset is not None:
                raise ApiError(400, "INVALIDJOB", "InvalidJob : OFFSET is not supported by Bulk API 2.0 queries")
            result = execute(parsed, self.store, include_deleted=operation == "queryAll", url_prefix=call.prefix)
        except SoqlError as error:
            raise ApiError(400, error.error_code, error.message) from None
        job = self._new_job(
            call, body, {"operation": operation, "object": result.object_name, "state": "UploadComplete"}
        )
        job.info["jobType"] = "V2Query"
        job.records = result.rows
        job.header = list(flatten(result.rows[0])) if result.rows else []
        if not job.header:  # no rows: the header still names the selected fields
            job.header = [item.text for item in parsed.select if isinstance(item, FieldRef)]
        job.info["numberRecordsProcessed"] = len(job.records)
        return json_reply(200, {k: v for k, v in job.info.items() if k != "numberRecordsProcessed"})

    def _results(self, call: Call) -> Reply:
        job = self._job(call, "V2Query")
        if job.info["state"] != "JobComplete":
            raise ApiError(400, "INVALIDJOBSTATE", f"Job is not complete; its state is {job.info['state']}")
        text = call.params.get("maxRecords") or str(DEFAULT_RESULT_RECORDS)
        if not text.isdigit() or not 0 < int(text) <= MAX_RESULT_RECORDS:
            raise ApiError(400, "INVALIDREQUEST", f"maxRecords must be between 1 and {MAX_RESULT_RECORDS}")
        locator = call.params.get("locator") or ""
        start = offset_of(locator) if locator else 0
        if start is None or start > len(job.records):
            raise ApiError(400, "INVALIDREQUEST", f"Invalid locator: {locator}")
        end = min(start + min(int(text), self.chunk_records), len(job.records))
        body = render_records(job.header, job.records[start:end], job.delimiter, job.line_ending)
        headers = {
            "Sforce-NumberOfRecords": str(end - start),
            "Sforce-Locator": locator_of(end) if end < len(job.records) else "null",
        }
        return Reply(200, body, _CSV, headers)

    # -- ingest jobs ----------------------------------------------------------------------------------------

    def _create_ingest(self, call: Call) -> Reply:
        body = call.json()
        if not isinstance(body, dict):
            raise ApiError(400, "INVALIDJOB", "InvalidJob : the job needs object and operation")
        operation = body.get("operation")
        spec = self.store.spec(str(body.get("object") or ""))
        if operation not in _INGEST_OPERATIONS:
            raise ApiError(400, "INVALIDJOB", f"InvalidJob : operation {operation} is not supported")
        if spec is None:
            raise ApiError(400, "INVALIDJOB", f"InvalidJob : Unable to find object: {body.get('object')}")
        if operation == "upsert" and not body.get("externalIdFieldName"):
            raise ApiError(400, "INVALIDJOB", "InvalidJob : externalIdFieldName is required for upsert")
        info = {"operation": operation, "object": spec.name, "state": "Open"}
        if body.get("externalIdFieldName"):
            info["externalIdFieldName"] = body["externalIdFieldName"]
        job = self._new_job(call, body, info)
        job.info["jobType"] = "V2Ingest"
        job.info["contentUrl"] = f"{call.prefix.lstrip('/')}/jobs/ingest/{job.info['id']}/batches"
        job.info.update(numberRecordsProcessed=0, numberRecordsFailed=0)
        return json_reply(200, job.info)

    def _upload(self, call: Call) -> Reply:
        job = self._job(call, "V2Ingest")
        if not call.headers.get("content-type", "").startswith(_CSV):
            raise ApiError(400, "INVALIDREQUEST", "Content-Type must be text/csv")
        if len(call.body) > MAX_UPLOAD_BYTES:
            raise ApiError(400, "INVALIDREQUEST", "The upload is larger than the 150 MB (base64) limit")
        with self._lock:
            if job.info["state"] != "Open":
                raise ApiError(409, "INVALIDJOBSTATE", f"Job is in {job.info['state']} state; data can't be added")
            parse_csv(call.body, job.delimiter)  # a malformed file fails the upload, not the job later
            job.uploads.append(call.body)
        return Reply(201, b"", _CSV)

    def _ingest(self, job: _Job) -> None:
        spec = self.store.spec(job.info["object"])
        assert spec is not None
        operation = job.info["operation"]
        user_id = job.info["createdById"]
        header: list[str] = []
        for upload in job.uploads:
            header, rows = parse_csv(upload, job.delimiter)
            for row in rows:
                if self.fail_after is not None and len(job.successes) + len(job.failures) >= self.fail_after:
                    job.unprocessed.append(row)
                    job.info.update(state="Failed", errorMessage="InternalServerError : the job stopped")
                    continue
                values = dict(zip(header, row, strict=False))
                try:
                    record_id, created = self._write(spec, operation, values, user_id, job.info)
                except ApiError as error:
                    message = f"{error.error_code}:{error.message}:{','.join(error.fields or [])} --"
                    job.failures.append([values.get("Id", ""), message, *row])
                    continue
                job.successes.append([record_id, "true" if created else "false", *row])
        job.header = header
        shuffle = random.Random(int(ids.serial_of(job.info["id"])))
        shuffle.shuffle(job.successes)
        shuffle.shuffle(job.failures)
        job.info["numberRecordsProcessed"] = len(job.successes) + len(job.failures)
        job.info["numberRecordsFailed"] = len(job.failures)

    def _write(
        self, spec: Any, operation: str, values: Mapping[str, str], user_id: str, info: Mapping[str, Any]
    ) -> tuple[str, bool]:
        """Write one CSV row; (the record's Id, whether it was created). Empty fields are left out, #N/A is null."""
        body: dict[str, Any] = {name: (None if v == "#N/A" else v) for name, v in values.items() if v != ""}
        key = next((name for name in body if name.lower() == "id"), None)
        raw_id = body.pop(key) if key is not None else None
        with self.store.transaction() as tx:
            if operation == "insert":
                return writes.create(tx, self.store, spec, body, user_id), True
            if operation == "upsert":
                found = self._matching(spec, str(info["externalIdFieldName"]), body)
                if found:
                    writes.update(tx, self.store, spec, found[0], body, user_id)
                    return found[0], False
                return writes.create(tx, self.store, spec, body, user_id), True
            record_id = self._target(spec, raw_id)
            if operation == "update":
                writes.update(tx, self.store, spec, record_id, body, user_id)
            else:
                writes.delete(tx, self.store, spec, record_id, user_id)
            return record_id, False

    def _matching(self, spec: Any, name: str, body: Mapping[str, Any]) -> list[str]:
        """The live records whose external-Id field holds the row's value (text compared as the field's unique
        check does: case-insensitively unless the field is case-sensitive, as `composite.upsert`)."""
        field = next((f for f in spec.definition.fields if f.name.lower() == name.lower() and f.external_id), None)
        if field is None:
            raise ApiError(400, "INVALIDJOB", f"InvalidJob : {name} is not an external ID field")
        value = next((v for k, v in body.items() if k.lower() == field.name.lower()), None)
        if value is None or value == "":
            raise ApiError(400, "MISSING_ARGUMENT", f"{field.name} not specified", [field.name])
        wanted = value if field.case_sensitive else str(value).casefold()
        return [
            str(r["Id"])
            for r in self.store.records(spec.name)
            if r.get(field.name) is not None
            and (r[field.name] if field.case_sensitive else str(r[field.name]).casefold()) == wanted
        ]

    def _target(self, spec: Any, raw_id: Any) -> str:
        canonical = ids.normalize(raw_id)
        if canonical is None:
            raise ApiError(400, "MALFORMED_ID", f"malformed id {raw_id}", ["Id"])
        record: Record | None = self.store.get(canonical)
        if record is None or self.store.spec_for_id(canonical) is not spec:
            raise ApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
        if record["IsDeleted"]:
            raise ApiError(400, "ENTITY_IS_DELETED", "entity is deleted")
        return canonical

    def _record_results(self, call: Call, which: str) -> Reply:
        job = self._job(call, "V2Ingest")
        with self._lock:
            if which != "unprocessed" and job.info["state"] not in ("JobComplete", "Failed", "Aborted"):
                raise ApiError(400, "INVALIDJOBSTATE", f"Job is not complete; its state is {job.info['state']}")
            rows: list[list[str]] = getattr(job, which)
            header = job.header or (parse_csv(job.uploads[0], job.delimiter)[0] if job.uploads else [])
        lead = {"successes": ["sf__Id", "sf__Created"], "failures": ["sf__Id", "sf__Error"], "unprocessed": []}
        return Reply(200, render_csv([*lead[which], *header], rows, job.delimiter, job.line_ending), _CSV)


#: (path pattern, method → kind) of the Bulk API 2.0 resources, joined to the REST routes (`rest.route`).
ROUTES: tuple[tuple[tuple[str, ...], dict[str, str]], ...] = (
    (("jobs", "query"), {"POST": "bulk_query_create", "GET": "bulk_query_list"}),
    (("jobs", "query", "*"), {"GET": "bulk_query_job", "PATCH": "bulk_query_state"}),
    (("jobs", "query", "*", "results"), {"GET": "bulk_query_results"}),
    (("jobs", "ingest"), {"POST": "bulk_ingest_create", "GET": "bulk_ingest_list"}),
    (("jobs", "ingest", "*"), {"GET": "bulk_ingest_job", "PATCH": "bulk_ingest_state"}),
    (("jobs", "ingest", "*", "batches"), {"PUT": "bulk_ingest_upload"}),
    (("jobs", "ingest", "*", "successfulResults"), {"GET": "bulk_ingest_successful"}),
    (("jobs", "ingest", "*", "failedResults"), {"GET": "bulk_ingest_failed"}),
    (("jobs", "ingest", "*", "unprocessedrecords"), {"GET": "bulk_ingest_unprocessed"}),
)

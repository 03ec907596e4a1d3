"""Bulk API 2.0 jobs: query jobs for large scans, ingest jobs for large writes, and when each costs fewer calls.

The protocol is the "Bulk API 2.0 and Bulk API Developer Guide" (developer.salesforce.com, api_asynch):

- query: `POST /jobs/query` {operation: query, query, contentType: CSV, columnDelimiter, lineEnding} ("Create a
  Query Job"), `GET /jobs/query/{id}` until JobComplete ("Get Information About a Query Job"; Failed and Aborted
  end it), then `GET /jobs/query/{id}/results?maxRecords=N[&locator=L]` ("Get Results for a Query Job": CSV,
  `Sforce-Locator` naming the next chunk, the literal "null" after the last; a locator may be read again).
- ingest: `POST /jobs/ingest` {object, operation, contentType, lineEnding} ("Create a Job", state Open),
  `PUT /jobs/ingest/{id}/batches` with text/csv ("Upload Job Data", 201), `PATCH /jobs/ingest/{id}`
  {state: UploadComplete} ("Upload Complete"; processing starts only then), `GET /jobs/ingest/{id}` until
  JobComplete, and the per-record `successfulResults` / `failedResults` / `unprocessedrecords`.

What a lost reply means, and what is done about it (nothing is ever written twice):

- a query job's creation only reads, so it is repeated like any read;
- an ingest job's creation is not idempotent, but an Open job writes nothing until told UploadComplete: after a
  lost reply the org's ingest jobs are listed ("Get Information About All Ingest Jobs") and the one Open job of
  this object and operation created since the call, and unknown to this process, is taken as ours; with none
  the job is created again, with several a new one is created and those are left Open, holding no data;
- an upload whose reply is lost may or may not have reached the job, so that job is aborted (its data is never
  processed) and the records go to a new job;
- a lost UploadComplete is settled by reading the job's state: still Open, it is sent again.

Polling backs off (1 s, 2 s, 4 s, … capped at `MAX_POLL_SECONDS`), each poll being a call, and wakes at once
when the statement is cancelled (`federation.cancel`).
"""

from __future__ import annotations

import datetime
import email.utils
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from connectors.salesforce.client import SalesforceClient
from federation.errors import DatabaseError, Error, TransientError
from federation.http import Operation

log = logging.getLogger("duckfed.salesforce")

#: Records a results request asks for: a million-row scan is 50 calls (REST pages of 2,000 take 500), and a chunk
#: (about 10 MB of CSV for wide records, each held whole while it is read) keeps an export's memory flat.
MAX_RECORDS = 20_000
#: The poll waits: none before the first (a small job is often done), then 1 s doubling up to this.
MAX_POLL_SECONDS = 30.0
#: Polls a cost estimate counts for a job (the first usually sees it running, the second done).
EXPECTED_POLLS = 2
#: Calls a job costs besides its polls and result chunks: query create; ingest create, upload and close.
QUERY_OVERHEAD = 1
INGEST_OVERHEAD = 3
#: How far before a lost creation, by the API's clock, a job may have been stamped (its clock reads milliseconds,
#: and the request took time to arrive).
SLACK = datetime.timedelta(seconds=2)

CREATE_QUERY = Operation("create Bulk query job", idempotent=True)  # it only reads: a repeat is harmless
POLL = Operation("poll Bulk job", idempotent=True)
RESULTS = Operation("read Bulk results", idempotent=True)
LIST_JOBS = Operation("list Bulk ingest jobs", idempotent=True)
CREATE_INGEST = Operation("create Bulk ingest job", idempotent=False)
UPLOAD = Operation("upload Bulk job data", idempotent=False)
CLOSE = Operation("close Bulk ingest job", idempotent=False)
ABORT = Operation("abort Bulk ingest job", idempotent=True)


def scan_calls(rows: int) -> int:
    """The calls a Bulk query of `rows` records is expected to cost."""
    return QUERY_OVERHEAD + EXPECTED_POLLS + max(1, math.ceil(rows / MAX_RECORDS))


def ingest_calls(failures_possible: bool = True) -> int:
    """The calls an ingest job is expected to cost: create, upload, close, polls, successful (and failed) results."""
    return INGEST_OVERHEAD + EXPECTED_POLLS + 1 + int(failures_possible)


@dataclass(frozen=True)
class BulkPolicy:
    """When Bulk is used: `enabled` (the `UseBulkAPI` property), for at least `threshold` records (`BulkThreshold`),
    and only where it is expected to cost fewer calls than the REST API."""

    enabled: bool = True
    threshold: int = 10_000

    def scan(self, rows: int, page_size: int, spent: int = 0) -> bool:
        """Whether a scan of `rows` records is cheaper by Bulk than by query pages of `page_size`, `spent` of
        those pages being fetched already."""
        rest = math.ceil(rows / page_size) - spent
        return self.enabled and rows >= self.threshold and scan_calls(rows) < rest

    def write(self, records: int, per_call: int) -> bool:
        """Whether a write of `records` is cheaper by an ingest job than by calls of `per_call` records."""
        return self.enabled and records >= self.threshold and ingest_calls() < math.ceil(records / per_call)


class Chunk:
    """A chunk of query results (CSV with its header row) and the locator of the next, None after the last.

    Its body is handed on once (`take`): a scan keeps the last chunk for its locator while the next downloads, and
    must not keep the body of one already read."""

    def __init__(self, body: bytes, next_locator: str | None) -> None:
        self._body: bytes | None = body
        self.next_locator = next_locator

    def take(self) -> bytes:
        """The body, which the chunk then no longer holds."""
        body, self._body = self._body, None
        if body is None:
            raise AssertionError("a Bulk result chunk's body was taken twice")
        return body


class _KnownJobs:
    """Ingest jobs this process created, so a search after a lost creation never takes one of them for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: set[str] = set()

    def add(self, job_id: str) -> None:
        with self._lock:
            self._ids.add(job_id)

    def __contains__(self, job_id: object) -> bool:
        with self._lock:
            return job_id in self._ids


KNOWN_JOBS = _KnownJobs()


class BulkJobs:
    """Bulk API 2.0 calls for one connection (through its HTTP client: retries, limiter, cancellation)."""

    def __init__(self, client: SalesforceClient) -> None:
        self.client = client
        self.http = client.http

    @property
    def _jobs(self) -> str:
        return f"{self.client.data_path}/jobs"

    def _json(self, method: str, url: str, operation: Operation, body: dict[str, Any] | None = None) -> Any:
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs = {"content": orjson.dumps(body), "headers": {"Content-Type": "application/json"}}
        return orjson.loads(self.http.request(method, url, operation=operation, **kwargs).content)

    # -- query ------------------------------------------------------------------------------------------------

    def query(self, soql: str) -> tuple[int, str]:
        """Run `soql` as a query job until it is complete: (the records it found, the job's Id)."""
        log.debug("Bulk SOQL: %s", soql)
        body = {
            "operation": "query",
            "query": soql,
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        }
        job = self._json("POST", f"{self._jobs}/query", CREATE_QUERY, body)
        info = self.wait(f"{self._jobs}/query/{job['id']}")
        return int(info.get("numberRecordsProcessed") or 0), str(job["id"])

    def chunk(self, job_id: str, locator: str | None = None) -> Chunk:
        """One chunk of a complete query job's results: the first, or the one `locator` names."""
        params = {"maxRecords": str(MAX_RECORDS)} | ({"locator": locator} if locator else {})
        response = self.http.request("GET", f"{self._jobs}/query/{job_id}/results", operation=RESULTS, params=params)
        following = response.headers.get("sforce-locator")
        body = response.content
        # httpx 0.28 keeps a response in a reference cycle with its stream (encode/httpx#3733), so a chunk's body
        # outlived the chunk until the cyclic collector ran, and a large scan piled chunks up: drop the stream.
        response.stream = httpx.ByteStream(b"")
        return Chunk(body, None if not following or following == "null" else following)

    def wait(self, url: str, *, ended: bool = False) -> dict[str, Any]:
        """Poll a job until it is complete; its final info. A failed or aborted job raises the API's message, or
        with `ended` is returned too (an ingest job's results then say which records it wrote)."""
        pause = 1.0
        while True:
            info: dict[str, Any] = self._json("GET", url, POLL)
            state = info.get("state")
            if state == "JobComplete":
                return info
            if state in ("Failed", "Aborted"):
                if ended:
                    return info
                reason = info.get("errorMessage") or "no reason given"
                raise DatabaseError(f"Bulk API job {info.get('id')} ended {state}: {reason}", source=self.http.source)
            self.http.token.wait(pause)
            pause = min(pause * 2, MAX_POLL_SECONDS)

    # -- ingest -----------------------------------------------------------------------------------------------

    def ingest(
        self, sobject: str, operation: str, data: bytes, external_id: str | None = None
    ) -> tuple[dict[str, Any], dict[str, bytes]]:
        """Write `data` (CSV) by one ingest job: (the job's final info, its result files by resource name).

        `successfulResults` is always read, `failedResults` when records failed or the job did not complete (a
        Failed job may have written some records: its results say which)."""
        url = self._upload(sobject, operation, data, external_id)
        self._close(url)
        info = self.wait(url, ended=True)
        results = {"successfulResults": self._file(url, "successfulResults")}
        if int(info.get("numberRecordsFailed") or 0) or info.get("state") != "JobComplete":
            results["failedResults"] = self._file(url, "failedResults")
        return info, results

    def _file(self, url: str, name: str) -> bytes:
        return self.http.request("GET", f"{url}/{name}", operation=RESULTS).content

    def _upload(self, sobject: str, operation: str, data: bytes, external_id: str | None) -> str:
        """A job of ours holding `data`, not yet closed: its URL."""
        attempts = self.http.retry.attempts
        for attempt in range(attempts):
            url = f"{self._jobs}/ingest/{self._create(sobject, operation, external_id)}"
            try:
                self.http.request(
                    "PUT", f"{url}/batches", operation=UPLOAD, content=data, headers={"Content-Type": "text/csv"}
                )
                return url
            except TransientError as error:
                if attempt + 1 == attempts:
                    self._abort(url)
                    raise
                # The job may hold the data or not: abandon it unprocessed, and use a new one.
                log.info("%s: the upload to %s was lost (%s); aborting that job", self.http.source, url, error.message)
                self._abort(url)
                self.http.token.wait(self.http.retry.delay(attempt, error.retry_after))
        raise AssertionError("unreachable")

    def _abort(self, url: str) -> None:
        try:
            self._json("PATCH", url, ABORT, {"state": "Aborted"})
        except Error as error:
            # An Open job the abort did not reach is never processed either: nothing closes it.
            log.warning(
                "%s: could not abort Bulk job %s (%s); it stays Open, unprocessed", self.http.source, url, error
            )

    def _create(self, sobject: str, operation: str, external_id: str | None) -> str:
        """A new Open ingest job's Id; after a lost reply, the job that call created (or a new one)."""
        body = {"object": sobject, "operation": operation, "contentType": "CSV", "lineEnding": "LF"}
        if external_id is not None:
            body["externalIdFieldName"] = external_id
        attempts = self.http.retry.attempts
        for attempt in range(attempts):
            sent = time.monotonic()
            try:
                job_id = str(self._json("POST", f"{self._jobs}/ingest", CREATE_INGEST, body)["id"])
            except TransientError as error:
                if attempt + 1 == attempts:
                    raise
                self.http.token.wait(self.http.retry.delay(attempt, error.retry_after))
                found = self._lost_job(sobject, operation, time.monotonic() - sent)
                if found is None:
                    continue
                job_id = found
            KNOWN_JOBS.add(job_id)
            return job_id
        raise AssertionError("unreachable")

    def _lost_job(self, sobject: str, operation: str, elapsed: float) -> str | None:
        """The Open job a lost creation made, when exactly one job can be it."""
        response = self.http.request("GET", f"{self._jobs}/ingest", operation=LIST_JOBS, params={"jobType": "V2Ingest"})
        stamp = response.headers.get("date")
        server_now = email.utils.parsedate_to_datetime(stamp) if stamp else datetime.datetime.now(datetime.UTC)
        since = server_now - datetime.timedelta(seconds=elapsed) - SLACK
        candidates = []
        url: str | None = None
        while True:
            page = orjson.loads(response.content)
            for job in page.get("records") or ():
                if (
                    job.get("state") == "Open"
                    and job.get("object") == sobject
                    and job.get("operation") == operation
                    and job.get("id") not in KNOWN_JOBS
                    and _stamp(job.get("createdDate")) >= since
                ):
                    candidates.append(str(job["id"]))
            url = page.get("nextRecordsUrl")
            if page.get("done", True) or not url:
                break
            response = self.http.request("GET", url, operation=LIST_JOBS)
        if len(candidates) > 1:
            log.warning(
                "%s: %d Open %s jobs on %s could be the one a lost call created; creating another (they hold no data)",
                self.http.source,
                len(candidates),
                operation,
                sobject,
            )
        return candidates[0] if len(candidates) == 1 else None

    def _close(self, url: str) -> None:
        for attempt in range(self.http.retry.attempts):
            try:
                self._json("PATCH", url, CLOSE, {"state": "UploadComplete"})
                return
            except TransientError as error:
                self.http.token.wait(self.http.retry.delay(attempt, error.retry_after))
                if self._json("GET", url, POLL).get("state") != "Open":
                    return  # the lost call was carried out
        raise DatabaseError(f"could not close Bulk job {url}", source=self.http.source)


def _stamp(text: object) -> datetime.datetime:
    """A job's createdDate (`2024-01-02T17:38:59.000+0000`); the epoch when missing."""
    try:
        return datetime.datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return datetime.datetime.fromtimestamp(0, datetime.UTC)

"""What a create whose response was lost did: the records it created, found by asking the API, not by guessing.

A create (`POST /composite/sobjects`) that failed after it was sent may or may not have been carried out, and the
platform has no idempotency key to re-send it under. So before anything is sent again, the records created since
the call (by the API's clock) are read back and matched to the rows that were sent, by every value sent: a row
found was created, and a row is known not to have been only when every record created since is accounted for.
Records this process created earlier are left out of the search (`CREATED`), so repeating a statement's values
does not confuse it. Another client creating records with the same values in those seconds is the one case left
undecided: the write then stops and reports those rows as unknown rather than risk a duplicate.
"""

from __future__ import annotations

import datetime
import email.utils
import threading
import time
from collections.abc import Sequence

import pyarrow as pa

from connectors.salesforce.client import SERVER_TIME, SalesforceClient
from federation.errors import Error
from federation.predicates import Comparison, Operator
from federation.table import ScanRequest, Table

#: How far before a lost create, by the API's clock, created records are looked for (its clock reads whole
#: seconds, and the call took some time to arrive).
SLACK = datetime.timedelta(seconds=2)


class _Created:
    """Ids this process created per object, so a search after a lost create never takes them for its own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: dict[str, dict[str, float]] = {}

    def add(self, scope: str, ids: Sequence[str]) -> None:
        now = time.monotonic()
        with self._lock:
            known = self._ids.setdefault(scope, {})
            known.update(dict.fromkeys(ids, now))
            # Only records created since a lost call are searched, so hours-old Ids can't be confused.
            for stale in [i for i, at in known.items() if now - at > 3600]:
                del known[stale]

    def __contains__(self, item: tuple[str, str]) -> bool:
        with self._lock:
            return item[1] in self._ids.get(item[0], {})


CREATED = _Created()


class LostCreates:
    """The search after a lost create on one sObject, whose `table` it scans."""

    def __init__(self, client: SalesforceClient, table: Table) -> None:
        self.client = client
        self.table = table

    @property
    def scope(self) -> str:
        """Where the Ids of `CREATED` for this object are kept: its org's instance and its name."""
        return f"{self.client.instance()}/{self.table.info.name}"

    def _clock_offset(self) -> datetime.timedelta:
        """How far the API's clock (its `Date` header) is ahead of ours, so the search does not depend on ours."""
        response = self.client.http.request("GET", f"{self.client.data_path}/", operation=SERVER_TIME)
        stamp = response.headers.get("date")
        if not stamp:
            return datetime.timedelta(0)
        return email.utils.parsedate_to_datetime(stamp) - datetime.datetime.now(datetime.UTC)

    def settle(
        self, positions: list[int], rows: pa.Table, sent_at: datetime.datetime
    ) -> tuple[dict[int, str], list[int]] | None:
        """After a lost create: (position → Id of the record it created, positions it provably did not create),
        or None when the records created since can't be told apart."""
        try:
            self.table.info.column("CreatedDate")
            since = (sent_at + self._clock_offset() - SLACK).replace(microsecond=0)
            compared = [c for c in rows.column_names if c != "CreatedDate"]
            request = ScanRequest(("Id", "CreatedDate", *compared), Comparison("CreatedDate", Operator.GE, since))
            created = self.table.scan(request).read_all()
        except Error:  # no CreatedDate to search by, or the search failed: the rows stay unknown
            return None
        candidates = [
            c for c in created.to_pylist()
            if c["CreatedDate"] is not None and c["CreatedDate"] >= since and (self.scope, c["Id"]) not in CREATED
        ]  # fmt: skip
        candidates.sort(key=lambda c: (c["CreatedDate"], c["Id"]))
        wanted = rows.select(compared).to_pylist()
        found: dict[int, str] = {}
        taken: set[str] = set()
        for position in positions:
            sent = {k: _comparable(v) for k, v in wanted[position].items() if v is not None and v != ""}
            match = next(
                (
                    c
                    for c in candidates
                    if c["Id"] not in taken and all(_comparable(c[k]) == v for k, v in sent.items())
                ),
                None,
            )
            if match is not None:
                found[position] = str(match["Id"])
                taken.add(match["Id"])
        missing = [p for p in positions if p not in found]
        unexplained = [c for c in candidates if c["Id"] not in taken]
        if missing and unexplained:
            return None
        return found, missing


def _comparable(value: object) -> object:
    """A value as the API stores it: datetimes and times to the millisecond."""
    if isinstance(value, datetime.datetime | datetime.time):
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value

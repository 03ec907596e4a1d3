"""sObject Get Deleted: `GET /services/data/vXX.X/sobjects/{Object}/deleted/?start=…&end=…`, the delete log a
replicating client reads to learn which records were deleted in a time span.

The platform's rules, as its documents give them (REST API Developer Guide, "sObject Get Deleted"; SOAP API
Developer Guide, "getDeleted()" and "GetDeletedResult"):
- `start` and `end` are ISO 8601 date-times; the seconds are ignored (the minute is what counts);
- `start` must precede `end` by more than one minute and lie within the last 30 days, else 400
  INVALID_REPLICATION_DATE; so must it if the log was purged after `start` (an administrator emptying the
  recycle bin), which `earliestDateAvailable` then reports;
- the log covers no more than the last 15 days: older deletions are not returned, and `earliestDateAvailable`
  says from when it is whole;
- `latestDateCovered` is no later than `end` (nor than now): a client starts its next call there, so an `end` a
  minute ahead reads every deletion up to the call;
- more than 600,000 ids: 400 EXCEEDED_ID_LIMIT, to be retried with a shorter span.
The error code for a value that is no date-time at all is not documented; INVALID_REPLICATION_DATE is assumed.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

from federation.emulation.server import Reply, json_reply

from .calls import Call
from .errors import ApiError, not_found
from .soql.literals import datetime_wire
from .store import Store

#: How far back `start` may lie ("within the past 30 days").
START_WINDOW = dt.timedelta(days=30)
#: How far back the log holds deletions ("no more than 15 days previous to the day the call is executed").
LOG_RETENTION = dt.timedelta(days=15)
#: The most ids one call returns before failing with EXCEEDED_ID_LIMIT.
ID_LIMIT = 600_000
_MINUTE = dt.timedelta(minutes=1)


def _minute(moment: dt.datetime) -> dt.datetime:
    return moment.replace(second=0, microsecond=0)


def _instant(call: Call, name: str) -> dt.datetime:
    text = call.params.get(name, "")
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        message = f"{name} must be a date and time in ISO 8601 format with a UTC offset, not {text!r}"
        raise ApiError(400, "INVALID_REPLICATION_DATE", message)
    return _minute(moment.astimezone(dt.UTC))


class DeleteLog:
    """The delete log of one emulator's store (its deleted records, stamped with SystemModstamp when deleted)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        #: When an administrator last emptied the recycle bin: deletions before it are gone from the log.
        self._purged: dt.datetime | None = None

    def purge(self, at: dt.datetime | None = None) -> None:
        """Empty the log up to `at` (default: now), as emptying the recycle bin does."""
        with self._lock:
            self._purged = at or dt.datetime.now(dt.UTC)

    def serve(self, call: Call) -> Reply:
        """The records of the object the path names that were deleted between `start` and `end`."""
        spec = self._store.spec(call.parts[1])
        if spec is None or not spec.definition.queryable:
            raise not_found()
        start, end = _instant(call, "start"), _instant(call, "end")
        now = dt.datetime.fromtimestamp(time.time(), dt.UTC)
        with self._lock:
            purged = self._purged
        earliest = _minute(now - LOG_RETENTION)
        if purged is not None:
            earliest = max(earliest, _minute(purged))
        if end - start <= _MINUTE:
            message = "startDate must chronologically precede endDate by more than one minute"
            raise ApiError(400, "INVALID_REPLICATION_DATE", message)
        if start < now - START_WINDOW:
            raise ApiError(400, "INVALID_REPLICATION_DATE", "startDate must be within the last 30 days")
        if purged is not None and start < earliest:
            message = f"the delete log was purged: earliestDateAvailable is {datetime_wire(earliest)}"
            raise ApiError(400, "INVALID_REPLICATION_DATE", message)
        covered = min(end, now)
        found: list[dict[str, Any]] = []
        for record in self._store.records(spec.name, include_deleted=True):
            if record["IsDeleted"]:
                deleted = dt.datetime.fromisoformat(record["SystemModstamp"])
                if max(start, earliest) <= deleted <= covered:
                    found.append({"id": record["Id"], "deletedDate": record["SystemModstamp"]})
        if len(found) > ID_LIMIT:
            raise ApiError(400, "EXCEEDED_ID_LIMIT", f"more than {ID_LIMIT:,} ids: choose a shorter time span")
        payload = {
            "deletedRecords": found,
            "earliestDateAvailable": datetime_wire(earliest),
            "latestDateCovered": datetime_wire(covered),
        }
        return json_reply(200, payload)

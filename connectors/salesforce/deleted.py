"""The deletion feed a sync reads: sObject Get Deleted (`GET sobjects/{Object}/deleted/?start=…&end=…`).

The platform keeps a delete log per object (REST API Developer Guide, "sObject Get Deleted"; SOAP API Developer
Guide, "getDeleted()"): it holds no more than the last 15 days, less once an administrator empties the recycle
bin (then `earliestDateAvailable` is later), the span must start within the last 30 days and more than a minute
before it ends (else INVALID_REPLICATION_DATE), and a span with more than 600,000 deletions fails with
EXCEEDED_ID_LIMIT. Where the log can't vouch for the whole span, `deleted_since` says so (None) and the sync reads
the keys instead: a deletion missed would be a silently wrong copy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import orjson

from connectors.salesforce.client import SalesforceClient
from federation.errors import Error
from federation.http import Operation

#: What the log holds, with a day's margin for clocks that disagree.
COVERED = dt.timedelta(days=14)
#: The end is a minute ahead, so the minute of the call is covered; the start, the two minutes the span needs.
_AHEAD = dt.timedelta(minutes=1)
_SHORTEST = dt.timedelta(minutes=2)
#: The API's answers that mean "the log does not cover this span": read the keys instead.
_NOT_COVERED = frozenset({"INVALID_REPLICATION_DATE", "EXCEEDED_ID_LIMIT"})


def _wire(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def deleted_since(
    client: SalesforceClient, sobject: str, since: dt.datetime, now: dt.datetime | None = None
) -> Sequence[tuple[str, dt.datetime]] | None:
    """(Id, when deleted) of each `sobject` record deleted at or after `since`; None when the delete log can't
    say (too long ago, purged since, too many)."""
    now = now or dt.datetime.now(dt.UTC)
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    # The API ignores seconds: the start goes down to its minute, so nothing in that minute is missed.
    start = min(since.replace(second=0, microsecond=0), now - _SHORTEST)
    if start < now - COVERED:
        return None
    operation = Operation(f"getDeleted {sobject}", idempotent=True)
    try:
        response = client.http.request(
            "GET",
            f"{client.data_path}/sobjects/{sobject}/deleted/",
            operation=operation,
            params={"start": _wire(start), "end": _wire(now + _AHEAD)},
        )
    except Error as error:
        if error.api_code in _NOT_COVERED:
            return None
        raise
    body = orjson.loads(response.content)
    if dt.datetime.fromisoformat(body["earliestDateAvailable"]) > start:
        return None
    return [(str(r["id"]), dt.datetime.fromisoformat(r["deletedDate"])) for r in body["deletedRecords"]]

"""The deletion feed a sync reads: `GET /api/v1/{division}/sync/Deleted?$select=…&$filter=Timestamp gt N`.

Exact's SyncDeleted page (as the Elmas client's `sync_deleted.rb` and picqer's `SyncDeleted.php` copy it):
- the log lists each deleted record of the division with its `EntityKey`, `EntityType` (a number per entity:
  `Entity.deleted_type`), `DeletedDate` and `Timestamp`, a row-version counter that is higher for every entry than
  for any before it and has no relation to a date;
- "only the timestamp field is allowed as parameter": the feed can't be filtered by entity type or date, so a
  read brings every entity type's deletions since the cursor, and this module keeps the table's own;
- the first call filters on `Timestamp gt 1`, later ones on the highest Timestamp seen (an Int64 literal, `NL`:
  tap-exact's `client_sync.py`); pages of up to 1,000 follow `__next` (api-protocols §2: sync endpoints page
  like bulk ones, and require `$select`);
- "the log of records deleted is saved for 2 months".

The sync keeps the cursor in `_duckfed_sync` (`federation.sync.CursorFeed`). Without one (the run after a full
copy, or after a key scan), the whole log is read and the deletions at or after `since` are kept. Where the log
can't vouch for the whole span — the run the cursor or `since` comes from is older than the log keeps — the feed
says so (None) and the sync reads the keys instead: a deletion missed would be a silently wrong copy.

A deletion committed just after a read may carry a Timestamp below the highest one that read saw (a row version is
taken when a transaction writes, not when it commits). So the cursor handed on stops before the first entry
deleted less than `SETTLE` before the read began: those are read again next time (deleting a key twice changes
nothing; Exact's keys are never reused).

Not detected: a division moved to another database has its Timestamps reset (the same page: `DivisionMoveDate`
on `system/Divisions` says when); a cursor from before the move would then skip deletions. Sync such a division
into a new file.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import orjson

from connectors.exactonline import client
from federation.errors import ProgrammingError
from federation.http import HttpClient
from federation.sync import FeedRead

#: What the log keeps ("2 months"), less a margin for the shortest months and clocks that disagree.
COVERED = dt.timedelta(days=56)
#: How long before a read an entry must have been deleted for the cursor to move past it.
SETTLE = dt.timedelta(seconds=60)
_SELECT = "Timestamp,EntityKey,EntityType,DeletedDate"
_DATE = re.compile(r"/Date\((-?\d+)\)/")


def _moment(value: object) -> dt.datetime:
    found = _DATE.fullmatch(str(value))
    if found is None:
        raise ProgrammingError(f"sync/Deleted sent a DeletedDate that is not an Exact date: {value!r}")
    return dt.datetime.fromtimestamp(int(found.group(1)) / 1000, dt.UTC)


def _pages(http: HttpClient, prefix: str, after: int) -> Iterator[list[dict[str, Any]]]:
    """Each page of the division's log after Timestamp `after`, following `__next`."""
    url: str | None = f"{prefix}/sync/Deleted"
    # The first call's literal is a plain 1, later ones the Int64 form (tap-exact `client_sync.py`).
    params: dict[str, str] | None = {"$select": _SELECT, "$filter": f"Timestamp gt {after}{'' if after == 1 else 'L'}"}
    while url is not None:
        response = http.request("GET", url, operation=client.LIST, params=params)
        body = orjson.loads(response.content)["d"]
        yield body["results"]
        following = body.get("__next")
        url, params = (None, None) if not following else (urljoin(prefix + "/", following), None)
        # The bearer token goes only where the connection's own calls go.
        if url is not None and urlsplit(url).netloc != urlsplit(prefix).netloc:
            raise ProgrammingError(f"the API sent a next-page link to another host: {urlsplit(url).netloc}")


def deleted_after(
    http: HttpClient,
    prefix: str,
    entity_type: int,
    cursor: str | None,
    since: dt.datetime,
    now: dt.datetime | None = None,
) -> FeedRead | None:
    """The keys of `entity_type` deleted after `cursor` (or, with none, at or after `since`), with when, and the
    cursor to read from next; None when the log may have dropped some of them. `prefix` is `{base}/api/v1/{div}`."""
    now = now or dt.datetime.now(dt.UTC)
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    if since < now - COVERED:
        return None
    after = int(cursor) if cursor is not None else 1
    deleted: list[tuple[object, dt.datetime]] = []
    highest, unsettled = after, None
    for page in _pages(http, prefix, after):
        for entry in page:
            # OData v2 writes Int64 as a JSON string; accept a number too.
            stamp, at = int(entry["Timestamp"]), _moment(entry["DeletedDate"])
            highest = max(highest, stamp)
            if at > now - SETTLE:
                unsettled = stamp if unsettled is None else min(unsettled, stamp)
            if int(entry["EntityType"]) == entity_type and (cursor is not None or at >= since):
                deleted.append((str(entry["EntityKey"]), at))
    following = highest if unsettled is None else max(after, unsettled - 1)
    return FeedRead(deleted, str(following))

"""`GET /api/v1/{division}/sync/Deleted`: the log of records deleted through the API, as Exact's deleted-records
sync endpoint serves it.

What the emulator mirrors (Exact's SyncDeleted page, as the Elmas client's `sync_deleted.rb` and picqer's
`SyncDeleted.php` copy it):
- One entry per deleted record: `Timestamp` (a row-version counter, higher for every entry than any before it,
  with no relation to a date), `DeletedBy`, `DeletedDate`, `Division`, `EntityKey`, `EntityType` (Exact's numbers,
  `Entity.deleted_type`) and `ID`. Only entities that have a number are logged.
- "Only the timestamp field is allowed as parameter": `$filter=Timestamp gt N` (or `NL`, the Int64 form that
  tap-exact sends after its first call) and nothing else; every query must filter ("filter on timestamp greater
  than 1" the first time). Anything else is refused with a 400 in Exact's error envelope (the wording is ours:
  UNCONFIRMED).
- `$select` is required, as on every sync endpoint ("API limits"); up to 1,000 entries a page in Timestamp order,
  `__next` repeating the query with `$skiptoken=<last Timestamp>L` (the token's form is UNCONFIRMED).
- "The log of records deleted is saved for 2 months": older entries are gone.

Replies are JSON with `Accept: application/json`, else an Atom feed, as for every entity. Timestamps are JSON
numbers like every other integer this emulator serves (OData v2 writes Int64 as a string: the connector accepts
both).
"""

from __future__ import annotations

import itertools
import re
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from connectors.exactonline.entities import Entity, Property
from federation.emulation.clock import Clock
from federation.emulation.server import Exchange, Reply, json_reply

from . import feed
from .auth import ApiError
from .data import USER_ID

PAGE = 1000
#: Two months, as the log keeps them (the shortest two: 59 days).
KEPT_MS = 59 * 86_400_000
#: The endpoint's record type, for rendering (`feed.py`): JSON, or the Atom feed for a client that asks no JSON.
DELETED = Entity(
    "Deleted",
    "sync",
    tuple(
        Property(name, edm, read_only=True)
        for name, edm in (
            ("Timestamp", "Edm.Int64"),
            ("DeletedBy", "Edm.Guid"),
            ("DeletedDate", "Edm.DateTime"),
            ("Division", "Edm.Int32"),
            ("EntityKey", "Edm.Guid"),
            ("EntityType", "Edm.Int32"),
            ("ID", "Edm.Guid"),
        )
    ),
    key="Timestamp",
    model="Exact.Web.Api.Models.Sync.Deleted",
)
FIELDS = tuple(p.name for p in DELETED.properties)
_FILTER = re.compile(r"\s*Timestamp\s+gt\s+(\d+)L?\s*", re.IGNORECASE)
_TOKEN = re.compile(r"(\d+)L?")
#: Where the counter starts: far from 1, so that a client that confuses it with a count or a date shows.
_FIRST = 8_000_000_001


@dataclass(frozen=True)
class Entry:
    timestamp: int
    division: int
    entity_type: int
    key: str
    deleted_ms: int
    id: str


class DeletionLog:
    """Every division's deleted records, in Timestamp order; thread-safe."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._counter = itertools.count(_FIRST)
        self._entries: list[Entry] = []

    def record(self, division: int, entity: Entity, key: str) -> None:
        if entity.deleted_type is None:
            return
        with self._lock:
            self._entries.append(
                Entry(next(self._counter), division, entity.deleted_type, key, self._now_ms(), str(uuid.uuid4()))
            )

    def _now_ms(self) -> int:
        return int(self._clock.wall() * 1000)

    def entries(self, division: int, after: int) -> list[Entry]:
        oldest = self._now_ms() - KEPT_MS
        with self._lock:
            self._entries = [e for e in self._entries if e.deleted_ms >= oldest]
            return [e for e in self._entries if e.division == division and e.timestamp > after]


def _record(entry: Entry) -> dict[str, Any]:
    """An entry as a record of `DELETED` (dates in epoch milliseconds, as the store keeps them)."""
    return {
        "Timestamp": entry.timestamp,
        "DeletedBy": USER_ID,
        "DeletedDate": entry.deleted_ms,
        "Division": entry.division,
        "EntityKey": entry.key,
        "EntityType": entry.entity_type,
        "ID": entry.id,
    }


def reply(log: DeletionLog, division: int, exchange: Exchange) -> Reply:
    """One page of the division's log after the filter's Timestamp (and the skiptoken's)."""
    params: Mapping[str, str] = exchange.params
    chosen = [n.strip() for n in params.get("$select", "").split(",") if n.strip()]
    if not chosen:
        raise ApiError(400, "$select is mandatory on sync endpoints")
    if chosen == ["*"]:
        chosen = list(FIELDS)
    unknown = [n for n in chosen if n not in FIELDS]
    if unknown:
        raise ApiError(400, f"No property '{unknown[0]}' exists in type '{DELETED.model}'")
    text = params.get("$filter")
    if text is None:
        raise ApiError(400, "Mandatory filter on Timestamp is missing for Deleted")
    found = _FILTER.fullmatch(text)
    if found is None:
        raise ApiError(400, f"Only 'Timestamp gt <value>' is allowed as a filter on sync endpoints: {text}")
    after = int(found.group(1))
    token = params.get("$skiptoken")
    if token is not None:
        skipped = _TOKEN.fullmatch(token)
        if skipped is None:
            raise ApiError(400, f"Invalid $skiptoken: {token}")
        after = max(after, int(skipped.group(1)))
    rows = log.entries(division, after)
    served = rows[:PAGE]
    next_url = None
    if len(rows) > PAGE:
        following = {k: v for k, v in params.items() if k != "$skiptoken"}
        following["$skiptoken"] = f"{served[-1].timestamp}L"
        query = "&".join(f"{k}={quote(v, safe=chr(39) + ',()$*')}" for k, v in following.items())
        next_url = f"{exchange.base_url}{exchange.path}?{query}"
    base = f"{exchange.base_url}/api/v1/{division}/sync/Deleted"
    records = [(f"{base}({e.timestamp}L)", _record(e)) for e in served]
    if "application/json" not in exchange.headers.get("accept", ""):
        body = feed.atom_feed("Deleted", exchange.base_url + exchange.path, records, DELETED, chosen, next_url, None)
        return Reply(200, body, feed.ATOM)
    payload: dict[str, Any] = {"results": [feed.json_record(r, DELETED, chosen, uri) for uri, r in records]}
    if next_url is not None:
        payload["__next"] = next_url
    return json_reply(200, {"d": payload})

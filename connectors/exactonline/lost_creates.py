"""What a create whose reply was lost did: the record it made, found by asking the API, never by guessing.

Exact takes no idempotency key, so a POST that may have reached the API is never simply sent again. When its
reply is lost (a 5xx, a dropped connection), the API is asked for records created in the last minutes holding
exactly the values that were sent, leaving out every record this process created itself. One match is the
lost create's record; none proves it was not created, so it is sent once more; several, or a search that
can't narrow by any value, leave the row's outcome unknown and the write stops (`WriteError.unknown`).
"""

from __future__ import annotations

import datetime
import threading
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

import orjson

from connectors.exactonline import client
from connectors.exactonline.entities import Entity
from connectors.exactonline.odata import literal
from federation.errors import Error, TransientError
from federation.http import HttpClient

#: How far back, by the client's clock, created records are looked for (Exact's clock may differ a little).
WINDOW = datetime.timedelta(minutes=10)
#: Sends of one create, at most (each after a search proved the previous one created nothing).
ATTEMPTS = 3
_COMPARABLE = {"Edm.String", "Edm.Guid", "Edm.Boolean", "Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Byte"}


class LostCreates:
    """Creates on one entity that survive a lost reply without a duplicate."""

    #: Keys this process created, per entity URL: a search never takes them for the lost call's.
    _ours: ClassVar[dict[str, set[object]]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, http: HttpClient, entity: Entity, prefix: Callable[[], str], post: Callable[..., object]):
        self.http = http
        self.entity = entity
        self._prefix = prefix
        self._post = post

    def create(self, body: dict[str, Any]) -> object:
        """POST `body` and return the new key, searching after a lost reply as the module docstring says."""
        since = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - WINDOW
        for attempt in range(ATTEMPTS):
            try:
                key = self._post(body)
            except TransientError:
                found = self._search(body, since)
                if found is None or (not found and attempt == ATTEMPTS - 1):
                    raise
                if not found:
                    continue  # provably not created: send it again
                key = found[0]
            with self._lock:
                self._ours.setdefault(self._url(), set()).add(key)
            return key
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _url(self) -> str:
        return f"{self._prefix()}/{self.entity.path}"

    def _search(self, body: dict[str, Any], since: datetime.datetime) -> list[object] | None:
        """Keys of records created since `since` holding `body`'s values and not ours: at most one, or None."""
        conditions, compared = [], []
        for name, value in body.items():
            prop = self.entity.property(name)
            if prop is None or not prop.filterable or prop.edm not in _COMPARABLE or value is None:
                continue
            sent = literal(prop.edm, value)
            if sent is not None:
                conditions.append(f"{name} eq {sent}")
                compared.append(name)
        if not compared:
            return None
        if self.entity.property("Created") is not None:
            conditions.append(f"Created ge {literal('Edm.DateTime', since)}")
        params = {"$select": ",".join([self.entity.key, *compared]), "$filter": " and ".join(conditions)}
        try:
            response = self.http.request("GET", self._url(), operation=client.LIST, params=params)
        except Error:
            return None
        page = orjson.loads(response.content)["d"]
        if "__next" in page:
            return None
        with self._lock:
            ours = set(self._ours.get(self._url(), ()))
        matches = [
            r[self.entity.key]
            for r in page["results"]
            if r[self.entity.key] not in ours and all(_same(r.get(n), body[n]) for n in compared)
        ]
        return matches if len(matches) <= 1 else None


def _same(stored: object, sent: object) -> bool:
    """Whether the API holds exactly the sent value (the filter's `eq` ignores case and trailing spaces)."""
    if isinstance(stored, str) and isinstance(sent, str):
        try:
            return uuid.UUID(stored) == uuid.UUID(sent)
        except ValueError:
            return stored == sent
    return orjson.dumps(stored) == orjson.dumps(sent)

"""The REST data API under ``/services/data/vXX.X``: routing, metadata, queries and single-record CRUD.

`route` names the resource a request addresses (the "kind" the emulator counts and faults by) before anything
else happens; `Rest.handle` then serves it. sObject Collections live in `composite`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from federation.emulation.clock import Clock
from federation.emulation.cursors import Cursors
from federation.emulation.server import Reply, json_reply

from . import bulk, composite, ids, writes
from .bulk import Bulk
from .calls import Call, error_reply
from .deleted import DeleteLog
from .describe import Describer
from .errors import ApiError, not_found
from .model import ObjectDef, Record
from .rendering import render_record, selected_fields
from .schema import ObjectSpec
from .soql import SoqlError, execute, parse
from .store import Store

#: API versions served, with their release names (``GET /services/data/``).
VERSIONS = {
    "50.0": "Winter '21",
    "51.0": "Spring '21",
    "52.0": "Summer '21",
    "53.0": "Winter '22",
    "54.0": "Spring '22",
    "55.0": "Summer '22",
    "56.0": "Winter '23",
    "57.0": "Spring '23",
    "58.0": "Summer '23",
    "59.0": "Winter '24",
    "60.0": "Spring '24",
    "61.0": "Summer '24",
    "62.0": "Winter '25",
}
DEFAULT_BATCH, MIN_BATCH = 2000, 200
API_LIMIT = 15000
#: Query locators last two days on the current platform (the older 15-minutes-of-inactivity rule is gone from
#: its docs); the platform releases a user's oldest cursors beyond a limit.
CURSOR_TTL = 2 * 24 * 3600
#: Query locators are 18-character Ids with this prefix, accepted in 15 or 18 characters.
LOCATOR_PREFIX = "0r8"

#: (path pattern, method → kind); "*" matches any one segment.
_ROUTES: tuple[tuple[tuple[str, ...], dict[str, str]], ...] = (
    ((), {"GET": "resources"}),
    (("sobjects",), {"GET": "sobjects"}),
    (("sobjects", "*", "describe"), {"GET": "describe"}),
    (("sobjects", "*", "deleted"), {"GET": "deleted"}),
    (("sobjects", "*"), {"GET": "sobject", "POST": "create"}),
    (("sobjects", "*", "*"), {"GET": "retrieve", "PATCH": "update", "DELETE": "delete"}),
    (("query",), {"GET": "query"}),
    (("queryAll",), {"GET": "queryAll"}),
    (("query", "*"), {"GET": "queryMore"}),
    (("queryAll", "*"), {"GET": "queryMore"}),
    (("limits",), {"GET": "limits"}),
    (
        ("composite", "sobjects"),
        {"POST": "composite_create", "PATCH": "composite_update", "DELETE": "composite_delete"},
    ),
    (("composite", "sobjects", "*"), {"GET": "composite_retrieve"}),
    (("composite", "sobjects", "*", "*"), {"PATCH": "composite_upsert"}),
    *bulk.ROUTES,
)


def route(method: str, parts: Sequence[str]) -> tuple[str, str | None]:
    """(kind, allowed methods when `method` is not one of them) for a path under the version prefix."""
    for pattern, methods in _ROUTES:
        if len(pattern) == len(parts) and all(p in ("*", part) for p, part in zip(pattern, parts, strict=True)):
            if method in methods:
                return methods[method], None
            return next(iter(methods.values())), ",".join(methods)
    return "unknown", None


class _Queryable:
    """The store as SOQL sees it: objects describe lists as not queryable don't exist for a query."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def object(self, name: str) -> ObjectDef | None:
        obj = self._store.object(name)
        return obj if obj is not None and obj.queryable else None

    def records(self, name: str, *, include_deleted: bool = False) -> Sequence[Record]:
        return self._store.records(name, include_deleted=include_deleted)

    def get(self, record_id: str) -> Record | None:
        return self._store.get(record_id)

    def is_deleted(self, record: Record) -> bool:
        return self._store.is_deleted(record)


class Rest:
    """Serves the REST resources of one emulator."""

    def __init__(self, store: Store, clock: Clock, max_cursors: int) -> None:
        self.store = store
        self.cursors: Cursors[Record] = Cursors(
            clock,
            ttl=CURSOR_TTL,
            capacity=max_cursors,
            new_locator=lambda serial: ids.make_id(LOCATOR_PREFIX, serial),
            canonical=ids.normalize,
        )
        self.describer = Describer(store)
        self._queryable = _Queryable(store)
        self.delete_log = DeleteLog(store)
        self.bulk = Bulk(store, writes.now_wire)
        self._handlers: Mapping[str, Callable[[Call], Reply]] = {
            "resources": self._resources,
            "sobjects": self._sobjects,
            "describe": self._describe,
            "sobject": self._sobject,
            "create": self._create,
            "retrieve": self._retrieve,
            "update": self._update,
            "delete": self._delete,
            "query": self._query,
            "queryAll": self._query,
            "queryMore": self._query_more,
            "limits": self._limits,
            "deleted": self.delete_log.serve,
            "composite_create": lambda call: composite.create(self.store, call),
            "composite_update": lambda call: composite.update(self.store, call),
            "composite_delete": lambda call: composite.delete(self.store, call),
            "composite_retrieve": lambda call: composite.retrieve(self.store, call),
            "composite_upsert": lambda call: composite.upsert(self.store, call),
            **self.bulk.handlers(),
        }
        self.api_calls = 0
        self._count_lock = threading.Lock()

    def count_api_call(self) -> None:
        """Count one data-API request against the org's daily limit (`/limits` and ``Sforce-Limit-Info``)."""
        with self._count_lock:
            self.api_calls += 1

    def handle(self, kind: str, call: Call) -> Reply:
        """Serve one authenticated request whose kind `route` named."""
        try:
            handler = self._handlers.get(kind)
            if handler is None:
                raise not_found()
            return handler(call)
        except ApiError as error:
            return error_reply(error)

    def _spec(self, name: str) -> ObjectSpec:
        spec = self.store.spec(name)
        if spec is None:
            raise not_found()
        return spec

    # -- metadata -------------------------------------------------------------------------------------------

    def _resources(self, call: Call) -> Reply:
        names = ("sobjects", "query", "queryAll", "limits", "composite", "search", "tooling", "jobs")
        return json_reply(200, {name: f"{call.prefix}/{name}" for name in names})

    def _sobjects(self, call: Call) -> Reply:
        return Reply(200, self.describer.global_describe(call.prefix))

    def _sobject(self, call: Call) -> Reply:
        return Reply(200, self.describer.basic_info(self._spec(call.parts[1]).name, call.prefix))

    def _describe(self, call: Call) -> Reply:
        return Reply(200, self.describer.describe(self._spec(call.parts[1]).name, call.prefix))

    def _limits(self, call: Call) -> Reply:
        remaining = max(API_LIMIT - self.api_calls, 0)
        return json_reply(
            200,
            {
                "DailyApiRequests": {"Max": API_LIMIT, "Remaining": remaining},
                "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
                "DataStorageMB": {"Max": 5, "Remaining": 5},
                "ConcurrentPerOrgLongTxn": {"Max": 10, "Remaining": 10},
            },
        )

    # -- query ----------------------------------------------------------------------------------------------

    def _query(self, call: Call) -> Reply:
        text = call.params.get("q")
        if not text:
            raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
        try:
            result = execute(
                parse(text), self._queryable, include_deleted=call.parts[0] == "queryAll", url_prefix=call.prefix
            )
        except SoqlError as error:
            raise ApiError(400, error.error_code, error.message) from None
        cursor = self.cursors.open(result.rows, result.total_size, _batch_size(call.headers, DEFAULT_BATCH))
        return self._page(cursor.locator, cursor.rows, cursor.total_size, 0, cursor.batch_size, call.prefix)

    def _query_more(self, call: Call) -> Reply:
        locator, _, offset_text = call.parts[1].partition("-")
        cursor = self.cursors.get(locator)
        offset = int(offset_text) if offset_text.isdigit() else -1
        if cursor is None or not 0 <= offset < max(len(cursor.rows), 1):
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        batch = _batch_size(call.headers, cursor.batch_size)
        return self._page(cursor.locator, cursor.rows, cursor.total_size, offset, batch, call.prefix)

    @staticmethod
    def _page(locator: str, rows: Sequence[Any], total: int, offset: int, batch: int, prefix: str) -> Reply:
        end = min(offset + batch, len(rows))
        payload: dict[str, Any] = {"totalSize": total, "done": end >= len(rows)}
        if end < len(rows):
            payload["nextRecordsUrl"] = f"{prefix}/query/{locator}-{end}"
        payload["records"] = rows[offset:end]
        return json_reply(200, payload)

    # -- single records -------------------------------------------------------------------------------------

    def _create(self, call: Call) -> Reply:
        spec = self._spec(call.parts[1])
        body = call.json()
        if not isinstance(body, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of object from request body")
        with self.store.transaction() as tx:
            record_id = writes.create(tx, self.store, spec, body, call.user_id, call.text())
        return json_reply(201, {"id": record_id, "success": True, "errors": []})

    def _record_id(self, spec: ObjectSpec, call: Call) -> str:
        """The canonical Id in the path, or the errors the platform gives for a value that is not one."""
        text = call.parts[2]
        canonical = ids.normalize(text)
        if canonical is None:
            # Not an Id: the platform reads the segment as an external-Id field name and finds none.
            raise ApiError(404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {text}")
        if canonical[:3] != spec.definition.key_prefix:
            raise ApiError(
                400, "MALFORMED_ID", f"{spec.definition.label} ID: id value of incorrect type: {text}", ["Id"]
            )
        return canonical

    def _retrieve(self, call: Call) -> Reply:
        spec = self._spec(call.parts[1])
        record = writes.existing(self.store, spec, self._record_id(spec, call))
        fields = selected_fields(spec.definition, call.params.get("fields"))
        return json_reply(200, render_record(spec, record, call.prefix, fields))

    def _update(self, call: Call) -> Reply:
        spec = self._spec(call.parts[1])
        record_id = self._record_id(spec, call)
        body = call.json()
        if not isinstance(body, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of object from request body")
        with self.store.transaction() as tx:
            writes.update(tx, self.store, spec, record_id, body, call.user_id, call.text())
        return Reply(204)

    def _delete(self, call: Call) -> Reply:
        spec = self._spec(call.parts[1])
        record_id = self._record_id(spec, call)
        with self.store.transaction() as tx:
            writes.delete(tx, self.store, spec, record_id, call.user_id)
        return Reply(204)


def _batch_size(headers: Mapping[str, str], default: int) -> int:
    """The ``Sforce-Query-Options: batchSize=N`` of a request, clamped to the documented 200-2000."""
    for option in headers.get("sforce-query-options", "").split(","):
        name, _, value = option.partition("=")
        if name.strip().lower() == "batchsize" and value.strip().isdigit():
            return min(max(int(value.strip()), MIN_BATCH), DEFAULT_BATCH)
    return default

"""`TemplateEmulator`: the template API on loopback — a plain JSON REST API with bearer OAuth and offset paging.

```
POST /oauth/token                          OAuth 2.0 token endpoint (code, password, refresh grants; rotation)
GET  /oauth/authorize                      consent (approves at once, redirects with the code)
GET  /api/v1/tables                        {"tables": [{"name", "label"}]}
GET  /api/v1/tables/{table}                {"name", "label", "fields": [{"name", "type", "nullable", "key", …}]}
GET  /api/v1/tables/{table}/records        ?fields=a,b&where=<JSON>&order=[-]field&limit=1..500&offset=n
                                           → {"records": [...], "total": n, "offset": o, "limit": l}
GET  /api/v1/tables/{table}/aggregate      ?group=a,b&measures=count,count:f,sum:f,min:f,max:f&where=<JSON>
                                           → {"groups": [{"a": …, "b": …, "count": n, "sum:f": "…"}], "more": false}
POST /api/v1/tables/{table}/records        {"fields": {...}} → 201 {"id": n}; an Idempotency-Key header makes a
                                           repeat of the same create answer the first reply instead of creating
PATCH  /api/v1/tables/{table}/records/{id} {"fields": {...}} → 200 {"id": n}
DELETE /api/v1/tables/{table}/records/{id} → 204
```
Errors: `{"error": {"code", "message"}}` with 400, 401 (`invalid_token`), 404, 422 (`invalid_record`), 429,
500 or 503. Ordering puts nulls first in ascending order and compares text by code point.

Aggregates group the records `where` selects by the `group` fields' values compared as filters compare them (text
by code point, case-sensitively; null is a group of its own), and compute each measure per group: `count` counts
records, `count:f` the non-null values of f, `sum:f` (integer and decimal fields) sums exactly and travels as a
string, `min:f`/`max:f` (sortable fields) come in the field's own form; over no values they are null. Without
`group` there is one group, even of no records. At most 1,000 groups come back; `"more": true` says there were
more.
"""

from __future__ import annotations

import bisect
import json
import threading
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from federation.emulation.emulator import Emulator, Mutation
from federation.emulation.faults import Fault
from federation.emulation.oauth import OAuthClient, OAuthServer, TokenPolicy
from federation.emulation.quotas import Rejection
from federation.emulation.server import Exchange, Reply, json_reply

from .data import LABELS, SCHEMAS, Field, Store
from .where import BadFilter, parse, stored

CLIENT_ID = "template-client"
CLIENT_SECRET = "template-secret"
USERNAME = "analyst@example.com"
PASSWORD = "template-password"
MAX_LIMIT = 500
MAX_GROUPS = 1000

_STATUS_CODES = {400: "bad_request", 401: "invalid_token", 404: "not_found", 429: "rate_limited", 503: "unavailable"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def reply(self) -> Reply:
        return error_reply(self.status, self.code, self.message)


def error_reply(status: int, code: str, message: str) -> Reply:
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else {}
    return json_reply(status, {"error": {"code": code, "message": message}}, headers)


class TemplateEmulator(Emulator):
    """The template API with `records` contacts (and a tenth as many companies)."""

    kind_groups: ClassVar[Mapping[str, frozenset[str]]] = {"writes": frozenset({"create", "update", "delete"})}
    unmetered_kinds = frozenset({"token", "authorize"})

    def __init__(
        self, records: int = 1000, *, rotate_refresh_tokens: bool = True, access_seconds: float = 3600.0
    ) -> None:
        super().__init__()
        self.store = Store(records)
        self.oauth = OAuthServer(
            [OAuthClient(CLIENT_ID, CLIENT_SECRET)],
            {USERNAME: PASSWORD},
            self.clock,
            TokenPolicy(access_seconds=access_seconds, rotate_refresh_tokens=rotate_refresh_tokens),
        )
        #: (table, field) pairs deleted from the schema, as an administrator removes a custom field.
        self.removed: set[tuple[str, str]] = set()
        self._idempotent: dict[str, Reply] = {}
        self._idempotent_lock = threading.Lock()

    @property
    def credentials(self) -> dict[str, str]:
        return {"OAuthClientId": CLIENT_ID, "OAuthClientSecret": CLIENT_SECRET, "InitiateOAuth": "GETANDREFRESH"}

    # -- routing --------------------------------------------------------------------------------------------

    def kind_of(self, exchange: Exchange) -> str:
        parts = [p for p in exchange.path.split("/") if p]
        if parts == ["oauth", "token"]:
            return "token"
        if parts == ["oauth", "authorize"]:
            return "authorize"
        if parts[:3] != ["api", "v1", "tables"]:
            return "unknown"
        rest, method = parts[3:], exchange.method
        if not rest:
            return "tables"
        if len(rest) == 1:
            return "describe"
        if len(rest) == 2 and rest[1] == "aggregate" and method == "GET":
            return "aggregate"
        if len(rest) == 2 and rest[1] == "records":
            return "records" if method == "GET" else "create" if method == "POST" else "unknown"
        if len(rest) == 3 and rest[1] == "records":
            return {"PATCH": "update", "DELETE": "delete"}.get(method, "unknown")
        return "unknown"

    def handle(self, kind: str, exchange: Exchange) -> Reply:
        assert self.oauth is not None
        if kind == "token":
            return self.oauth.token(exchange)
        if kind == "authorize":
            return self.oauth.authorize(exchange)
        scheme, _, token = exchange.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or self.oauth.check(token.strip()) is None:
            return error_reply(401, "invalid_token", "the access token is missing, invalid or expired")
        parts = [p for p in exchange.path.split("/") if p][3:]
        try:
            if kind == "tables":
                return json_reply(200, {"tables": [{"name": n, "label": LABELS[n]} for n in SCHEMAS]})
            table = self._table(parts[0])
            if kind == "describe":
                fields = [f.describe() for f in self._fields(table).values()]
                return json_reply(200, {"name": table, "label": LABELS[table], "fields": fields})
            if kind == "records":
                return self._list(table, exchange.params)
            if kind == "aggregate":
                return self._aggregate(table, exchange.params)
            if kind == "create":
                return self._create(table, exchange)
            key = self._key(table, parts[2])
            if kind == "update":
                return self._update(table, key, exchange)
            if kind == "delete":
                with self.store.lock:
                    del self.store.tables[table][key]
                return Reply(204)
        except ApiError as error:
            return error.reply()
        return error_reply(404, "not_found", f"no endpoint {exchange.method} {exchange.path}")

    def fault_reply(self, fault: Fault, kind: str, exchange: Exchange) -> Reply:
        code = _STATUS_CODES.get(fault.status, "internal_error")
        return error_reply(fault.status, code, f"injected {fault.status}")

    def quota_reply(self, rejection: Rejection, kind: str, exchange: Exchange) -> Reply:
        quota = rejection.state.quota
        return error_reply(429, "rate_limited", f"more than {quota.limit} calls in {quota.period_seconds:g} s")

    # -- resources ------------------------------------------------------------------------------------------

    def _table(self, name: str) -> str:
        if name not in SCHEMAS:
            raise ApiError(404, "not_found", f"no table {name!r}")
        return name

    def _key(self, table: str, text: str) -> int:
        if not text.isdigit() or int(text) not in self.store.tables[table]:
            raise ApiError(404, "not_found", f"no record {text!r} in {table}")
        return int(text)

    def _fields(self, table: str) -> dict[str, Field]:
        return {f.name: f for f in SCHEMAS[table] if (table, f.name) not in self.removed}

    def _list(self, table: str, params: Mapping[str, str]) -> Reply:
        fields = self._fields(table)
        chosen = [n for n in params.get("fields", "").split(",") if n] or list(fields)
        unknown = [n for n in chosen if n not in fields]
        if unknown:
            raise ApiError(400, "bad_request", f"unknown fields: {', '.join(unknown)}")
        try:
            limit, offset = int(params.get("limit", "100")), int(params.get("offset", "0"))
        except ValueError:
            raise ApiError(400, "bad_request", "limit and offset take whole numbers") from None
        if not 1 <= limit <= MAX_LIMIT or offset < 0:
            raise ApiError(400, "bad_request", f"limit must be 1 to {MAX_LIMIT} and offset not negative")
        rows = self._selected(table, params)
        order = params.get("order", "id")
        name = order.removeprefix("-")
        if name not in fields or not fields[name].sortable:
            raise ApiError(400, "bad_request", f"can't order by {order!r}")
        if order != "id":  # records are kept in id order (ids only grow): a full scan's pages need no sort
            rows.sort(key=lambda r: _sort_key(fields[name], r[name]), reverse=order.startswith("-"))
        page = [{n: r.get(n) for n in chosen} for r in rows[offset : offset + limit]]
        return json_reply(200, {"records": page, "total": len(rows), "offset": offset, "limit": limit})

    def _selected(self, table: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """The records `where` selects."""
        with self.store.lock:
            rows = list(self.store.tables[table].values())
        if "where" not in params:
            return rows
        try:
            tree = json.loads(params["where"])
            test = parse(table, tree)
        except (BadFilter, json.JSONDecodeError) as error:
            raise ApiError(400, "bad_request", f"invalid where: {error}") from None
        if tree == {"field": "id", "op": "gt", "value": tree.get("value")} and isinstance(tree["value"], int):
            # A key-paged scan's next page: a binary search over the records in id order, not a pass.
            return rows[bisect.bisect_right(rows, tree["value"], key=lambda r: r["id"]) :]
        return [r for r in rows if test(r) is True]

    def _aggregate(self, table: str, params: Mapping[str, str]) -> Reply:
        fields = self._fields(table)
        group = [n for n in params.get("group", "").split(",") if n]
        measures = [m for m in params.get("measures", "").split(",") if m]
        for name in group:
            if name not in fields or fields[name].type == "float":
                raise ApiError(400, "bad_request", f"can't group by {name!r}")
        for measure in measures:
            function, _, name = measure.partition(":")
            field = fields.get(name)
            allowed = {"count": field is not None or not name, "sum": field is not None and field.type in _SUMMABLE}
            allowed |= {"min": field is not None and field.sortable, "max": field is not None and field.sortable}
            if not allowed.get(function, False) or (function != "count" and not name):
                raise ApiError(400, "bad_request", f"unknown measure {measure!r}")
        buckets: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for row in self._selected(table, params):
            buckets.setdefault(tuple(stored(fields[n], row[n]) for n in group), []).append(row)
        if not group:
            buckets.setdefault((), [])
        groups = []
        for members in list(buckets.values())[:MAX_GROUPS]:
            answer = {n: members[0][n] for n in group} if members else {}
            answer |= {m: _measure(m, fields, members) for m in measures}
            groups.append(answer)
        return json_reply(200, {"groups": groups, "more": len(buckets) > MAX_GROUPS})

    def _validated(self, table: str, body: Any, *, creating: bool) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("fields"), dict):
            raise ApiError(400, "bad_request", 'the body must be {"fields": {...}}')
        fields = {f.name: f for f in SCHEMAS[table]}
        values: dict[str, Any] = body["fields"]
        for name, value in values.items():
            field = fields.get(name)
            if field is None:
                raise ApiError(422, "invalid_record", f"no field {name!r} in {table}")
            if field.readonly:
                raise ApiError(422, "invalid_record", f"{name} is read-only")
            if value is None and not field.nullable:
                raise ApiError(422, "invalid_record", f"{name} can't be null")
            try:
                stored(field, value)
            except BadFilter as error:
                raise ApiError(422, "invalid_record", str(error)) from None
        if creating:
            missing = [f.name for f in SCHEMAS[table] if f.required and values.get(f.name) is None]
            if missing:
                raise ApiError(422, "invalid_record", f"missing required fields: {', '.join(missing)}")
        return values

    def _create(self, table: str, exchange: Exchange) -> Reply:
        key = exchange.headers.get("idempotency-key")
        with self._idempotent_lock:
            if key is not None and key in self._idempotent:
                return self._idempotent[key]
            try:
                body = exchange.json()
            except ValueError:
                raise ApiError(400, "bad_request", "the body is not JSON") from None
            record = self.store.create(table, self._validated(table, body, creating=True))
            reply = json_reply(201, {"id": record["id"]})
            if key is not None:
                self._idempotent[key] = reply
        return reply

    def _update(self, table: str, key: int, exchange: Exchange) -> Reply:
        try:
            body = exchange.json()
        except ValueError:
            raise ApiError(400, "bad_request", "the body is not JSON") from None
        values = self._validated(table, body, creating=False)
        with self.store.lock:
            self.store.tables[table][key].update(values, updated_at=self.store.now())
        return json_reply(200, {"id": key})

    # -- test controls --------------------------------------------------------------------------------------

    def mutate(self, table: str, *, create: int = 0, delete: int = 0) -> Mutation:
        name = self._table(table.lower())
        with self.store.lock:
            keys = sorted(self.store.tables[name])
            step = max(len(keys) // (delete + 1), 1)
            doomed = [keys[(i + 1) * step - 1] for i in range(delete) if (i + 1) * step - 1 < len(keys)]
            for key in doomed:
                del self.store.tables[name][key]
        required = {f.name: _filler(f, n) for n, f in enumerate(SCHEMAS[name]) if f.required}
        created = [self.store.create(name, dict(required)) for _ in range(create)]
        return Mutation(tuple(str(r["id"]) for r in created), tuple(str(k) for k in doomed))


def _filler(field: Field, n: int) -> Any:
    return f"created while scanning {n}" if field.type == "text" else 0


_SUMMABLE = frozenset({"integer", "decimal"})


def _measure(measure: str, fields: Mapping[str, Field], members: list[dict[str, Any]]) -> Any:
    function, _, name = measure.partition(":")
    if not name:
        return len(members)
    field = fields[name]
    values = [v for v in (m[name] for m in members) if v is not None]
    if function == "count":
        return len(values)
    if not values:
        return None
    if function == "sum":
        return str(sum(stored(field, v) for v in values))
    chosen = (min if function == "min" else max)(values, key=lambda v: _sort_key(field, v))
    return chosen


def _sort_key(field: Field, value: Any) -> tuple[bool, Any]:
    # Nulls first in ascending order; values compare by their type (decimals as decimals, text by code point).
    if value is None:
        return (False, 0)
    return (True, Decimal(value) if field.type == "decimal" else value)

"""`ExactOnlineEmulator`: the Exact Online REST API on loopback, for several regions' hosts at once.

```
GET  /api/oauth2/auth                            consent (approves at once, redirects with ?code=)
POST /api/oauth2/token                           authorization_code and refresh_token grants
GET  /api/v1/current/Me                          {"d":{"results":[{"CurrentDivision":5512,…}]}} (not metered)
GET  /api/v1/{division}/{service}/{Entity}       $select $filter $orderby $top $skiptoken $inlinecount;
                                                 60 records a page, "__next" on every page but the last
GET  /api/v1/{division}/{service}/{Entity}/$count   a bare integer
GET  /api/v1/{division}/bulk/{Service}/{Entity}  the same, 1,000 records a page, $select required
GET  /api/v1/{division}/{service}/{Entity}(guid'…')  one record
GET  /api/v1/{division}/sync/Deleted             the deleted-records log (`deleted.py`)
POST /api/v1/{division}/{service}/{Entity}       201 {"d":{…}} (filled in with `Prefer: return=representation`)
PUT  /api/v1/{division}/{service}/{Entity}(guid'…')  204
DELETE /api/v1/{division}/{service}/{Entity}(guid'…')  204
```

The region is the host's (`start.exactonline.com` is the United States) or a first path segment (`/com/api/…`,
`/co.uk/api/…`); a plain loopback host is the emulator's home region. Tokens belong to the region that issued
them. Replies are JSON with `Accept: application/json` and an Atom feed otherwise; errors are
`{"error":{"code":"","message":{"lang":"","value":"…"}}}`. Quotas count per app (OAuth client) and division and
answer with `X-RateLimit-*` headers (epoch milliseconds; the daily ones left out once the minute's calls are
used up) and 429s; `EXACT_QUOTAS` are the published 60 a minute and 5,000 a day. Tokens last 600 s
(`expires_in` is the string "600"), refresh tokens rotate, and a refresh within 570 s of the last token is refused.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from connectors.exactonline.entities import BY_BULK_PATH, BY_NAME, BY_PATH, Entity
from federation.emulation.emulator import Emulator, Mutation
from federation.emulation.faults import Fault
from federation.emulation.oauth import OAuthClient, TokenPolicy
from federation.emulation.quotas import Quota, QuotaState, Rejection
from federation.emulation.server import Exchange, Reply, json_reply

from . import deleted, feed
from .auth import ApiError, ExactOAuth, error_reply
from .data import CURRENT_DIVISION, DIVISIONS, USER_ID, USER_NAME, Store, sql_guid_order
from .odata import BadFilter, parse_filter
from .values import BadValue, stored

CLIENT_ID = "{b81cc4de-d192-400e-bcb4-09254394c52a}"
CLIENT_SECRET = "exact-sandbox-secret"
USER = "sandbox@example.com"
#: Region host suffixes (`start.exactonline.{suffix}`).
REGIONS = ("nl", "be", "de", "co.uk", "com", "es", "fr")
PAGE, BULK_PAGE = 60, 1000
#: Exact's published limits per app and division ("API limits" page).
EXACT_QUOTAS = (Quota("minutely", 60, 60.0, aligned=True), Quota("daily", 5000, 86_400.0, aligned=True))
_KEY = re.compile(r"^(?P<entity>[A-Za-z]+)\((?:guid'(?P<guid>[^']*)'|(?P<number>\d+))\)$")


class ExactOnlineEmulator(Emulator):
    """Exact Online with the sandbox company: divisions 5512 (current), 5513 and 7001, `records` accounts."""

    kind_groups: ClassVar[Mapping[str, frozenset[str]]] = {
        "pages": frozenset({"list", "bulk"}),
        "writes": frozenset({"create", "update", "delete"}),
    }
    unmetered_kinds = frozenset({"token", "authorize", "me"})

    def __init__(self, records: int = 1000, *, region: str = "nl", quotas: Iterable[Quota] = ()) -> None:
        super().__init__(quotas=quotas)
        #: The `sync/Deleted` log of what the API deleted.
        self.deleted = deleted.DeletionLog(self.clock)
        self.store = Store(records, self.deleted.record)
        self.region = region
        self.tokens = ExactOAuth(
            [OAuthClient(CLIENT_ID, CLIENT_SECRET)],
            {USER: "not used: consent approves at once"},
            self.clock,
            TokenPolicy(access_seconds=600, rotate_refresh_tokens=True, min_refresh_age=570),
        )
        self.oauth = self.tokens

    @property
    def credentials(self) -> dict[str, str]:
        return {"OAuthClientId": CLIENT_ID, "OAuthClientSecret": CLIENT_SECRET, "InitiateOAuth": "GETANDREFRESH"}

    # -- routing --------------------------------------------------------------------------------------------

    def _route(self, exchange: Exchange) -> tuple[str, list[str]]:
        """(region, path segments after `/api`)."""
        parts = [p for p in exchange.path.split("/") if p]
        region = self.region
        host = exchange.base_url.split("://", 1)[-1].split(":", 1)[0].lower()
        if host.startswith("start.exactonline."):
            region = host.removeprefix("start.exactonline.")
        if parts and parts[0].lower() in REGIONS:
            region = parts.pop(0).lower()
        return region, parts[1:] if parts[:1] == ["api"] else ["?"]

    def kind_of(self, exchange: Exchange) -> str:
        _, parts = self._route(exchange)
        method = exchange.method
        if parts[:1] == ["oauth2"]:
            return {"token": "token", "auth": "authorize"}.get(parts[1] if len(parts) > 1 else "", "unknown")
        if parts[:3] == ["v1", "current", "Me"]:
            return "me"
        if len(parts) < 4 or parts[0] != "v1":
            return "unknown"
        rest = parts[2:]
        if rest[0].lower() == "bulk":
            return "bulk" if method == "GET" else "unknown"
        if [p.lower() for p in rest] == ["sync", "deleted"]:
            return "deleted" if method == "GET" else "unknown"
        if rest[-1] == "$count":
            return "count"
        if _KEY.match(rest[-1]):
            return {"GET": "get", "PUT": "update", "DELETE": "delete"}.get(method, "unknown")
        return {"GET": "list", "POST": "create"}.get(method, "unknown")

    def key_of(self, exchange: Exchange) -> str:
        _, parts = self._route(exchange)
        return f"{self.tokens.app_of(exchange)}/{parts[1] if len(parts) > 1 else ''}"

    def handle(self, kind: str, exchange: Exchange) -> Reply:
        region, parts = self._route(exchange)
        try:
            if kind == "token":
                return self.tokens.grant(region, exchange)
            if kind == "authorize":
                return self.tokens.authorize(exchange)
            self.tokens.authenticate(region, exchange)
            if kind == "me":
                return self._me(exchange)
            if kind == "unknown":
                raise ApiError(404, f"Resource not found: {exchange.method} {exchange.path}")
            division = self._division(parts[1])
            return self._serve(kind, division, parts[2:], exchange)
        except ApiError as error:
            return error.reply()

    def fault_reply(self, fault: Fault, kind: str, exchange: Exchange) -> Reply:
        return error_reply(fault.status, f"Injected fault {fault.status}")

    def quota_reply(self, rejection: Rejection, kind: str, exchange: Exchange) -> Reply:
        quota = rejection.state.quota
        return error_reply(429, f"API rate limit exceeded: {quota.limit} calls per {quota.name} window")

    def quota_headers(self, states: Mapping[str, QuotaState]) -> dict[str, str]:
        headers: dict[str, str] = {}
        minutely, daily = states.get("minutely"), states.get("daily")
        if minutely is not None:
            headers["X-RateLimit-Minutely-Limit"] = str(minutely.quota.limit)
            headers["X-RateLimit-Minutely-Remaining"] = str(minutely.remaining)
            headers["X-RateLimit-Minutely-Reset"] = str(int(minutely.reset_at * 1000))
        # Once the minute's calls are used up, Exact sends the minutely headers only (picqer's README).
        if daily is not None and (minutely is None or minutely.remaining > 0):
            headers["X-RateLimit-Limit"] = str(daily.quota.limit)
            headers["X-RateLimit-Remaining"] = str(daily.remaining)
            headers["X-RateLimit-Reset"] = str(int(daily.reset_at * 1000))
        return headers

    def _me(self, exchange: Exchange) -> Reply:
        me = {
            "__metadata": {"uri": f"{exchange.base_url}/api/v1/current/Me(guid'{USER_ID}')", "type": "Exact.Me"},
            "CurrentDivision": CURRENT_DIVISION,
            "UserID": USER_ID,
            "FullName": USER_NAME,
            "Email": USER,
        }
        return json_reply(200, {"d": {"results": [me]}})

    def _division(self, text: str) -> int:
        if not text.isdigit() or int(text) not in {code for code, _, _ in DIVISIONS}:
            raise ApiError(403, "Forbidden - WrongDivision")
        return int(text)

    # -- resources ------------------------------------------------------------------------------------------

    def _serve(self, kind: str, division: int, rest: list[str], exchange: Exchange) -> Reply:
        if kind == "bulk":
            entity = BY_BULK_PATH.get("/".join(rest).lower())
            if entity is None:
                raise ApiError(404, f"Resource not found: {'/'.join(rest)}")
            return self._list(division, entity, exchange, bulk=True)
        if kind == "deleted":
            return deleted.reply(self.deleted, division, exchange)
        found = _KEY.match(rest[-1])
        path = "/".join([*rest[:-1], found.group("entity")] if found else [p for p in rest if p != "$count"])
        entity = BY_PATH.get(path.lower())
        if entity is None and path.lower() == "hrm/divisions":
            entity = BY_NAME["Divisions"]  # ossobv's get_divisions reads them here
        if entity is None:
            raise ApiError(404, f"Resource not found: {path}")
        if kind == "list":
            return self._list(division, entity, exchange, bulk=False)
        if kind == "count":
            rows = self._filtered(division, entity, exchange.params)
            return Reply(200, str(len(rows)).encode(), "text/plain;charset=utf-8")
        if kind == "create":
            return self._create(division, entity, exchange)
        assert found is not None
        key: object = found.group("guid") if found.group("guid") is not None else int(found.group("number"))
        if kind == "get":
            record = self._record(division, entity, key)
            uri = feed.entity_uri(exchange.base_url, division, entity, key)
            return json_reply(200, {"d": feed.json_record(record, entity, [p.name for p in entity.properties], uri)})
        if not entity.writable:
            raise ApiError(405, f"The entity {entity.name} does not support {exchange.method}")
        if kind == "update":
            values = self._values(entity, exchange, creating=False)
            if not self.store.update(division, entity, str(key), values):
                raise ApiError(404, "Object not found")
            return Reply(204)
        if not self.store.delete(division, entity, str(key)):
            raise ApiError(404, "Object not found")
        return Reply(204)

    def _record(self, division: int, entity: Entity, key: object) -> dict[str, Any]:
        record = (
            next((r for r in self.store.divisions() if r["Code"] == key), None)
            if entity.name == "Divisions"
            else self.store.get(division, entity, str(key))
        )
        if record is None:
            raise ApiError(404, "Object not found")
        return record

    def _filtered(self, division: int, entity: Entity, params: Mapping[str, str]) -> list[dict[str, Any]]:
        rows = self.store.rows(division, entity)
        text = params.get("$filter")
        for prop in entity.properties:
            if prop.required_filter and not (text and re.search(rf"\b{prop.name}\b", text)):
                raise ApiError(400, f"Mandatory filter on {prop.name} is missing for {entity.name}")
        if text:
            try:
                test = parse_filter(text, entity)
            except BadFilter as error:
                raise ApiError(400, str(error)) from None
            rows = [r for r in rows if test(r)]
        return rows

    def _list(self, division: int, entity: Entity, exchange: Exchange, *, bulk: bool) -> Reply:
        params = exchange.params
        if "$skip" in params:
            raise ApiError(400, "The query parameter '$skip' is not supported on this endpoint; use $skiptoken")
        names = {p.name for p in entity.properties}
        chosen = [n.strip() for n in params.get("$select", "").split(",") if n.strip()]
        if bulk and not chosen:
            raise ApiError(400, "$select is mandatory on bulk endpoints")
        if chosen == ["*"]:
            chosen = []
        unknown = [n for n in chosen if n not in names]
        if unknown:
            raise ApiError(400, f"No property '{unknown[0]}' exists in type '{entity.model}'")
        fields = chosen or [p.name for p in entity.properties]
        rows = self._filtered(division, entity, params)
        total = len(rows)
        rows = self._ordered(entity, rows, params.get("$orderby"))
        token = params.get("$skiptoken")
        if token:
            rows = self._after(entity, rows, token, ordered="$orderby" in params)
        top = self._int(params, "$top")
        page = (BULK_PAGE if bulk else PAGE) if top is None else min(top, BULK_PAGE if bulk else PAGE)
        served, more = rows[:page], len(rows) > page and (top is None or top > page)
        next_url = None
        if more and served:
            following = {k: v for k, v in params.items() if k not in ("$skiptoken", "$top")}
            if top is not None:
                following["$top"] = str(top - len(served))
            last = served[-1][entity.key]
            following["$skiptoken"] = f"guid'{last}'" if isinstance(last, str) else str(last)
            query = "&".join(f"{k}={quote(v, safe=chr(39) + ',()$*')}" for k, v in following.items())
            next_url = f"{exchange.base_url}{exchange.path}?{query}"
        count = total if params.get("$inlinecount") == "allpages" else None
        uris = [(feed.entity_uri(exchange.base_url, division, entity, r[entity.key]), r) for r in served]
        if "application/json" not in exchange.headers.get("accept", ""):
            body = feed.atom_feed(entity.name, exchange.base_url + exchange.path, uris, entity, fields, next_url, count)
            return Reply(200, body, feed.ATOM)
        payload: dict[str, Any] = {"results": [feed.json_record(r, entity, fields, uri) for uri, r in uris]}
        if count is not None:
            payload["__count"] = str(count)
        if next_url is not None:
            payload["__next"] = next_url
        return json_reply(200, {"d": payload})

    @staticmethod
    def _int(params: Mapping[str, str], name: str) -> int | None:
        if name not in params:
            return None
        if not params[name].isdigit():
            raise ApiError(400, f"Invalid value for {name}: {params[name]!r}")
        return int(params[name])

    @staticmethod
    def _ordered(entity: Entity, rows: list[dict[str, Any]], orderby: str | None) -> list[dict[str, Any]]:
        for clause in reversed([c.strip() for c in (orderby or "").split(",") if c.strip()]):
            name, _, direction = clause.partition(" ")
            if entity.property(name) is None:
                raise ApiError(400, f"No property '{name}' exists in type '{entity.model}'")
            # SQL Server order: nulls first ascending, text by the case-insensitive collation.
            rows.sort(
                key=lambda r: (
                    (r[name] is not None, str(r[name]).casefold() if isinstance(r[name], str) else r[name])
                    if r[name] is not None
                    else (False, 0)
                ),
                reverse=direction.strip().lower() == "desc",
            )
        return rows

    @staticmethod
    def _after(entity: Entity, rows: list[dict[str, Any]], token: str, *, ordered: bool) -> list[dict[str, Any]]:
        found = re.fullmatch(r"guid'([^']*)'|(\d+)L?", token)
        if found is None:
            raise ApiError(400, f"Invalid $skiptoken: {token}")
        key: object = found.group(1) if found.group(1) is not None else int(found.group(2))
        if ordered:
            position = next((i for i, r in enumerate(rows) if r[entity.key] == key), None)
            return rows[position + 1 :] if position is not None else rows
        if isinstance(key, str):
            # Unordered rows come in key order (`Store.rows`): a page starts after a binary search, not a pass.
            start = bisect.bisect_right(rows, sql_guid_order(key), key=lambda r: sql_guid_order(r[entity.key]))
            return rows[start:]
        return [r for r in rows if r[entity.key] > key]

    def _values(self, entity: Entity, exchange: Exchange, *, creating: bool) -> dict[str, Any]:
        try:
            body = exchange.json()
        except ValueError:
            raise ApiError(400, "Error processing request stream. The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise ApiError(400, "Error processing request stream. A JSON object was expected.")
        values: dict[str, Any] = {}
        for name, value in body.items():
            prop = entity.property(name)
            if prop is None:
                raise ApiError(400, f"Error processing request stream. The property '{name}' does not exist.")
            if prop.read_only:
                raise ApiError(400, f"Error processing request stream. The property '{name}' is read-only.")
            try:
                values[name] = stored(prop, value)
            except BadValue as error:
                raise ApiError(400, f"Error processing request stream. {error}") from None
        if creating:
            missing = [p.name for p in entity.properties if p.mandatory and values.get(p.name) in (None, "")]
            if missing:
                raise ApiError(400, f"Mandatory: {', '.join(missing)}")
        return values

    def _create(self, division: int, entity: Entity, exchange: Exchange) -> Reply:
        if not entity.writable:
            raise ApiError(405, f"The entity {entity.name} does not support POST")
        record = self.store.create(division, entity, self._values(entity, exchange, creating=True))
        uri = feed.entity_uri(exchange.base_url, division, entity, record[entity.key])
        fields = [p.name for p in entity.properties]
        rendered = feed.json_record(record, entity, fields, uri)
        if "return=representation" not in exchange.headers.get("prefer", ""):
            # Without the header the created entity comes back with its properties empty, its key aside.
            rendered = {k: (v if k in ("__metadata", entity.key) else None) for k, v in rendered.items()}
        return json_reply(201, {"d": rendered}, {"Location": uri})

    # -- test controls --------------------------------------------------------------------------------------

    def mutate(self, table: str, *, create: int = 0, delete: int = 0) -> Mutation:
        entity = next((e for e in BY_NAME.values() if e.name.lower() == table.lower()), None)
        if entity is None or entity.name == "Divisions":
            raise ValueError(f"no mutable table {table!r}")
        rows = self.store.rows(CURRENT_DIVISION, entity)
        step = max(len(rows) // (delete + 1), 1)
        doomed = [rows[(i + 1) * step - 1][entity.key] for i in range(delete) if (i + 1) * step - 1 < len(rows)]
        for key in doomed:
            self.store.delete(CURRENT_DIVISION, entity, key)
        mandatory = {p.name: f"created while scanning {n}" for n, p in enumerate(entity.properties) if p.mandatory}
        created = [self.store.create(CURRENT_DIVISION, entity, dict(mandatory)) for _ in range(create)]
        return Mutation(tuple(str(r[entity.key]) for r in created), tuple(str(k) for k in doomed))

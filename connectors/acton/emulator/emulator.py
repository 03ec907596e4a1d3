"""`ActOnEmulator`: Act-On's REST API on loopback (api-protocols.md §3; the published OpenAPI act-on-api-1.json).

```
POST /token                 password, refresh_token and authorization_code grants (form-encoded)
GET  /authorize             consent for the code grant (approves at once, redirects with ?code=)
/api/1/image, /api/1/media  see assets.py          /api/1/list…, /api/1/message   see lists.py
```

Tokens (§3.2): access tokens last 3600 s, refresh tokens are single-use, and at most 5 password or
authorization-code grants are answered per client and user in any hour (counted on the emulator's clock). The
limit's reply is UNCONFIRMED; this emulator answers 403 `{"error": "access_denied", "error_description": …}`,
so a client shows it instead of retrying. Token errors use Act-On's documented bodies (401 `access_denied`
"Unauthorized" for a bad client, 403 `invalid_grant` for a wrong password or refresh token).

Limits (§3.3): 5 calls in any sliding second and 30,000 a day (`VENDOR_QUOTAS`; the sandbox starts without them
so tests run at full speed, and tests or users turn them on with `set_quotas`). No over-limit reply is
documented; this emulator answers as the API gateway does, 429 `{"httpCode": "429", "httpMessage": "Too Many
Requests", "moreInformation": …}` with `Retry-After`. A missing, unknown or expired token gets the gateway's 401.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from typing import ClassVar
from urllib.parse import unquote

from federation.emulation.emulator import Emulator, Mutation
from federation.emulation.faults import Fault
from federation.emulation.oauth import RFC_ERRORS, Grant, OAuthClient, OAuthServer, Refusal, TokenPolicy
from federation.emulation.quotas import Quota, Rejection
from federation.emulation.server import Exchange, Json, Reply, json_reply

from .assets import Assets
from .data import EMAIL_HEADER, Account
from .lists import Lists
from .wire import ApiError, gateway_reply

CLIENT_ID = "acton-sandbox-client"
CLIENT_SECRET = "acton-sandbox-secret"
USERNAME = "marketer@example.com"
PASSWORD = "acton-sandbox-password"
#: Act-On's published limits: 5 calls in any second, 30,000 a day.
VENDOR_QUOTAS = (Quota("second", 5, 1.0), Quota("day", 30_000, 86_400.0, aligned=True))
GRANTS_PER_HOUR = 5

_REASONS = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests"}


class ActOnOAuth(OAuthServer):
    """The kit's authorization server with Act-On's error bodies and token reply."""

    errors: ClassVar[Mapping[Refusal, tuple[int, str, str]]] = {
        **RFC_ERRORS,
        Refusal.UNKNOWN_CLIENT: (401, "access_denied", "Unauthorized"),
        Refusal.BAD_CLIENT_SECRET: (401, "access_denied", "Unauthorized"),
        Refusal.BAD_CREDENTIALS: (403, "invalid_grant", "Wrong email or password."),
        Refusal.BAD_REFRESH_TOKEN: (403, "invalid_grant", "Unknown or invalid refresh token."),
    }

    def token_fields(self, grant: Grant, base_url: str) -> dict[str, Json]:
        return {"scope": "offline-access"}


class ActOnEmulator(Emulator):
    """Act-On with a "Newsletter" list of `records` contacts, images, media, messages and smaller lists."""

    kind_groups: ClassVar[Mapping[str, frozenset[str]]] = {
        "writes": frozenset(
            {"upload", "image_update", "image_delete", "create_list", "add", "upsert", "update", "delete", "deletes"}
        )
    }
    unmetered_kinds = frozenset({"token", "authorize"})

    def __init__(self, records: int = 1000, *, quotas: tuple[Quota, ...] = ()) -> None:
        super().__init__(quotas=quotas)
        self.account = Account(records)
        self.oauth = ActOnOAuth(
            [OAuthClient(CLIENT_ID, CLIENT_SECRET)],
            {USERNAME: PASSWORD},
            self.clock,
            TokenPolicy(access_seconds=3600, rotate_refresh_tokens=True),
        )
        self.assets = Assets(self.account, self._now_ms)
        self.lists = Lists(self.account, self._now_ms)
        self._grants: deque[float] = deque()
        self._grant_lock = threading.Lock()

    def _now_ms(self) -> int:
        return int(self.clock.wall() * 1000)

    # -- routing --------------------------------------------------------------------------------------------

    def kind_of(self, exchange: Exchange) -> str:
        parts = _parts(exchange)
        method = exchange.method
        if parts in (["token"], ["authorize"]):
            return parts[0]
        if parts[:2] != ["api", "1"] or len(parts) < 3:
            return "unknown"
        family, rest = parts[2], parts[3:]
        if family == "image":
            if not rest:
                return {"GET": "images", "POST": "upload"}.get(method, "unknown")
            return {"GET": "image", "PUT": "image_update", "DELETE": "image_delete"}.get(method, "unknown")
        if family == "media" and method == "GET":
            return "media_item" if rest else "media"
        if family == "message" and method == "GET" and not rest:
            return "messages"
        if family == "list":
            return _list_kind(method, rest)
        return "unknown"

    def handle(self, kind: str, exchange: Exchange) -> Reply:
        assert self.oauth is not None
        if kind == "token":
            return self._token(exchange)
        if kind == "authorize":
            return self.oauth.authorize(exchange)
        scheme, _, token = exchange.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or self.oauth.check(token.strip()) is None:
            return gateway_reply(401, "Unauthorized", "This server could not verify that you are authorized")
        rest = _parts(exchange)[3:]
        try:
            return self._serve(kind, rest, exchange)
        except ApiError as error:
            return error.reply()

    def _serve(self, kind: str, rest: list[str], exchange: Exchange) -> Reply:
        params, assets, lists = exchange.params, self.assets, self.lists
        match kind:
            case "images":
                return assets.images()
            case "upload":
                return assets.upload(exchange)
            case "image":
                return assets.image(rest[0])
            case "image_update":
                return assets.replace(rest[0], exchange)
            case "image_delete":
                return assets.delete(rest[0])
            case "media":
                return assets.media()
            case "media_item":
                return assets.media_item(rest[0])
            case "messages":
                return lists.messages(params)
            case "lists":
                return lists.listing(params)
            case "create_list":
                return lists.create_list(exchange)
            case "records":
                return lists.download(rest[0], params)
            case "lookup":
                return lists.lookup(rest[1], params)
            case "record":
                return lists.record(rest[0], rest[2])
            case "add":
                return lists.add(rest[0], exchange)
            case "upsert":
                return lists.upsert(rest[0], exchange)
            case "update":
                return lists.update(rest[0], rest[2], exchange)
            case "delete":
                return lists.delete(rest[0], rest[2])
            case "deletes":
                return lists.delete_many(rest[0], params)
        return gateway_reply(404, "Not Found", f"No resource matches {exchange.method} {exchange.path}")

    # -- tokens ---------------------------------------------------------------------------------------------

    def _token(self, exchange: Exchange) -> Reply:
        assert self.oauth is not None
        if exchange.form().get("grant_type") not in ("password", "authorization_code"):
            return self.oauth.token(exchange)
        with self._grant_lock:
            now = self.clock.now()
            while self._grants and self._grants[0] <= now - 3600:
                self._grants.popleft()
            if len(self._grants) >= GRANTS_PER_HOUR:
                description = f"Too many logins: at most {GRANTS_PER_HOUR} password or code grants an hour"
                return json_reply(403, {"error": "access_denied", "error_description": description})
            before = self.oauth.logins
            reply = self.oauth.token(exchange)
            if self.oauth.logins > before:
                self._grants.append(now)
            return reply

    # -- the vendor's error replies -------------------------------------------------------------------------

    def fault_reply(self, fault: Fault, kind: str, exchange: Exchange) -> Reply:
        if kind == "token":
            return json_reply(fault.status, {"error": "server_error", "error_description": f"HTTP {fault.status}"})
        reason = _REASONS.get(fault.status, "Service Unavailable" if fault.status == 503 else "Error")
        return gateway_reply(fault.status, reason, f"injected {fault.status}")

    def quota_reply(self, rejection: Rejection, kind: str, exchange: Exchange) -> Reply:
        quota = rejection.state.quota
        more = "Daily quota exceeded" if quota.aligned else f"Rate limit of {quota.limit} calls per second exceeded"
        return gateway_reply(429, "Too Many Requests", more)

    # -- test controls --------------------------------------------------------------------------------------

    def mutate(self, table: str, *, create: int = 0, delete: int = 0) -> Mutation:
        name = table.removeprefix("List_").replace("_", " ")
        found = self.account.list_named(name)
        if found is None:
            raise KeyError(f"no list named {name!r}")
        with self.account.lock:
            numbers = list(found.records)
            step = max(len(numbers) // (delete + 1), 1)
            doomed = [numbers[(i + 1) * step - 1] for i in range(delete) if (i + 1) * step - 1 < len(numbers)]
            for number in doomed:
                del found.records[number]
            column = found.headers.index(EMAIL_HEADER)
            created = []
            for n in range(create):
                values = [""] * len(found.headers)
                values[column] = f"created.while.scanning.{found.next_number}.{n}@example.com"
                created.append(found.add(values, self._now_ms()))
        return Mutation(tuple(found.record_id(n) for n in created), tuple(found.record_id(n) for n in doomed))


def _parts(exchange: Exchange) -> list[str]:
    """The path's segments, percent-decoded (a record id's colon may arrive as %3A)."""
    return [unquote(p) for p in exchange.path.split("/") if p]


def _list_kind(method: str, rest: list[str]) -> str:
    if not rest:
        return {"GET": "lists", "POST": "create_list"}.get(method, "unknown")
    if rest[0] == "lookup" and len(rest) == 2 and method == "GET":
        return "lookup"
    if len(rest) == 1 and method == "GET":
        return "records"
    if len(rest) == 2 and rest[1] == "record":
        return {"POST": "add", "PUT": "upsert", "DELETE": "deletes"}.get(method, "unknown")
    if len(rest) == 3 and rest[1] == "record":
        return {"GET": "record", "PUT": "update", "DELETE": "delete"}.get(method, "unknown")
    return "unknown"

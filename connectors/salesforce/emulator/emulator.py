"""`SalesforceEmulator`: a Salesforce-platform org on loopback, serving the FinancialForce or Certinia profile.

It ties the pieces together: the HTTP server hands each request here; the request is classified, counted,
delayed by the configured latency, possibly failed by an injected fault, then served by the login flows or the
REST API. See the package docstring for the public surface.
"""

from __future__ import annotations

import base64
import threading
import time
from collections import Counter
from collections.abc import Collection
from typing import Any

import orjson

from . import ids, soap
from .auth import PASSWORD, SECURITY_TOKEN, USERNAME, Auth, OAuthError
from .calls import JSON, Call, Reply, error_reply, json_reply
from .cursors import Cursors
from .errors import ApiError, not_found
from .faults import Fault, Faults, rest_error
from .rest import API_LIMIT, VERSIONS, Rest
from .routing import Target, target
from .server import Exchange, Server
from .store import Store

_XML = "text/xml;charset=UTF-8"
#: Query locators last two days on the current platform; at most this many are kept (the oldest released first).
CURSOR_TTL = 2 * 24 * 3600


class SalesforceEmulator:
    """A threaded HTTP/1.1 server speaking the Salesforce platform's login, OAuth and REST protocols.

    Use as a context manager (or `start` / `stop`). `records` is the number of records of each main object
    (Account, Contact, Opportunity, sales invoices, projects, timecards, …); they are generated deterministically
    from `seed` the first time an object is touched.
    """

    def __init__(
        self,
        profile: str = "certinia",
        records: int = 1000,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        session_seconds: int = 7200,
        latency: float = 0.0,
        max_cursors: int = 100,
    ) -> None:
        self.store = Store(profile, records, seed)
        self.profile = profile
        #: Seconds added to every request before it is served.
        self.latency = latency
        self.calls = 0
        self.calls_by_kind: Counter[str] = Counter()
        self._host, self._port = host, port
        self._auth = Auth(ids.make_id("00D", 1), self.store.context.user_id(0), session_seconds)
        self._rest = Rest(self.store, Cursors(CURSOR_TTL, max_cursors))
        self._faults = Faults()
        self._lock = threading.Lock()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------

    def start(self) -> SalesforceEmulator:
        """Bind the port and serve in a background thread."""
        if self._server is None:
            self._server = Server((self._host, self._port), self)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="salesforce-emulator",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            self._thread = None

    def __enter__(self) -> SalesforceEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server."""
        if self._server is None:
            raise RuntimeError("the emulator is not running: call start() or use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def credentials(self) -> dict[str, str]:
        """Connection properties (as the connectors spell them) that log in to this emulator."""
        return {"User": USERNAME, "Password": PASSWORD, "SecurityToken": SECURITY_TOKEN}

    # -- test controls --------------------------------------------------------------------------------------

    def reset_counts(self) -> None:
        """Zero `calls` and `calls_by_kind`."""
        with self._lock:
            self.calls = 0
            self.calls_by_kind.clear()

    def inject(
        self,
        status: int = 500,
        *,
        times: int = 1,
        kinds: Collection[str] | None = None,
        body: Any = None,
        retry_after: float | None = None,
        drop: bool = False,
        after_processing: bool = False,
        skip: int = 0,
    ) -> None:
        """Fail `times` requests of `kinds` (all kinds when None), after letting the next `skip` of them through.

        They answer `status` with the platform's error body for it (or `body`: bytes, text, or JSON-ready data),
        plus ``Retry-After`` when `retry_after` is given; with `drop` the connection closes without a response.
        With `after_processing` the request is carried out first and only its response is replaced or lost.
        """
        self._faults.inject(status, times, kinds, body, retry_after, drop, after_processing, skip)

    def clear_faults(self) -> None:
        """Forget every injected fault that has not fired yet."""
        self._faults.clear()

    def expire_sessions(self) -> None:
        """Invalidate every access token issued so far (refresh tokens keep working)."""
        self._auth.expire_all()

    # -- serving --------------------------------------------------------------------------------------------

    def serve(self, exchange: Exchange) -> Reply | None:
        """Answer one request; None means close the connection without answering (an injected drop)."""
        where = target(exchange.method, exchange.path)
        with self._lock:
            self.calls += 1
            self.calls_by_kind[where.kind] += 1
            if where.is_data:
                self._rest.api_calls += 1
        if self.latency > 0:
            time.sleep(self.latency)
        fault = self._faults.take(where.kind)
        reply: Reply | None = None
        if fault is None or fault.after_processing:
            reply = self._dispatch(where, exchange)
        if fault is not None:
            reply = self._fault_reply(fault, where)
        if reply is None or not (where.is_data or where.kind == "versions"):
            return reply
        # Every REST response reports the org's API usage, errors included.
        usage = {"Sforce-Limit-Info": f"api-usage={self._rest.api_calls}/{API_LIMIT}"}
        return Reply(reply.status, reply.body, reply.content_type, {**reply.headers, **usage})

    def _fault_reply(self, fault: Fault, where: Target) -> Reply | None:
        if fault.drop:
            return None
        headers: dict[str, str] = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        if fault.body is not None:
            body = fault.body
            raw = body if isinstance(body, bytes) else body.encode() if isinstance(body, str) else orjson.dumps(body)
            return Reply(fault.status, raw, _XML if where.kind == "login" else JSON, headers)
        code, message = rest_error(fault.status)
        if where.kind == "login":
            return Reply(fault.status, soap.fault(where.soap_api, code, message), _XML, headers)
        if where.kind in ("token", "authorize", "revoke", "userinfo"):
            oauth_error = {"error": "unknown_error", "error_description": "retry your request"}
            return Reply(fault.status, orjson.dumps(oauth_error), JSON, headers)
        return Reply(fault.status, orjson.dumps([{"message": message, "errorCode": code}]), JSON, headers)

    def _dispatch(self, where: Target, exchange: Exchange) -> Reply:
        try:
            if where.is_data:
                return self._data(where, exchange)
            if where.kind == "versions":
                return json_reply(
                    200,
                    [
                        {"label": label, "url": f"/services/data/v{version}", "version": version}
                        for version, label in VERSIONS.items()
                    ],
                )
            if where.kind == "login" and exchange.method == "POST":
                status, envelope = soap.login(
                    self._auth, exchange.body, where.soap_api, where.parts[0], exchange.base_url
                )
                return Reply(status, envelope, _XML)
            if where.kind == "token" and exchange.method == "POST":
                return json_reply(200, self._auth.token(exchange.form(), _basic(exchange), exchange.base_url))
            if where.kind == "authorize":
                location = self._auth.authorize(exchange.params | exchange.form())
                return Reply(302, b"", "text/html", {"Location": location})
            if where.kind == "userinfo":
                return self._userinfo(exchange)
            if where.kind == "revoke":
                token = (exchange.params | exchange.form()).get("token", "")
                if not self._auth.revoke(token):
                    raise OAuthError("invalid_token", "invalid token")
                return Reply(200, b"", "text/html")
            raise not_found()
        except OAuthError as error:
            return Reply(error.status, orjson.dumps(error.body))
        except ApiError as error:
            return error_reply(error)

    def _session(self, exchange: Exchange) -> str | None:
        scheme, _, token = exchange.headers.get("authorization", "").partition(" ")
        return self._auth.check(token.strip()) if scheme.lower() in ("bearer", "oauth") else None

    def _data(self, where: Target, exchange: Exchange) -> Reply:
        user_id = self._session(exchange)
        if user_id is None:
            reply = error_reply(ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid"))
            return Reply(reply.status, reply.body, reply.content_type, {"WWW-Authenticate": "Token"})
        if where.allowed is not None:
            return error_reply(
                ApiError(
                    405,
                    "METHOD_NOT_ALLOWED",
                    f"HTTP Method '{exchange.method}' not allowed. Allowed are {where.allowed}",
                )
            )
        call = Call(
            exchange.method,
            where.parts,
            exchange.params,
            exchange.headers,
            exchange.body,
            f"/services/data/v{where.version}",
            user_id,
        )
        return self._rest.handle(where.kind, call)

    def _userinfo(self, exchange: Exchange) -> Reply:
        user_id = self._session(exchange)
        if user_id is None:
            return Reply(403, b"Bad_OAuth_Token", "text/plain")
        user = self.store.get(user_id) or {}
        identity = f"{exchange.base_url}/id/{self._auth.org_id}/{user_id}"
        return json_reply(
            200,
            {
                "sub": identity,
                "user_id": user_id,
                "organization_id": self._auth.org_id,
                "preferred_username": user.get("Username"),
                "nickname": user.get("Alias"),
                "name": user.get("Name"),
                "email": user.get("Email"),
                "email_verified": True,
                "given_name": user.get("FirstName"),
                "family_name": user.get("LastName"),
                "zoneinfo": user.get("TimeZoneSidKey"),
                "active": True,
                "user_type": "STANDARD",
                "language": "en_US",
                "locale": "en_US",
                "utcOffset": -28800000,
                "urls": {
                    "rest": f"{exchange.base_url}/services/data/v{{version}}/",
                    "query": f"{exchange.base_url}/services/data/v{{version}}/query/",
                },
            },
        )


def _basic(exchange: Exchange) -> tuple[str, str] | None:
    """Client credentials sent as HTTP Basic authentication, which the token endpoint also accepts."""
    scheme, _, encoded = exchange.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        return None
    return client_id, secret

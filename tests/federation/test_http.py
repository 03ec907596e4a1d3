"""The HTTP loop against a small XML API on loopback whose session id travels inside the request body and whose
errors come back with HTTP 200 — the shape of Sage Intacct's gateway — built on the emulation kit.

It checks what every connector relies on: a re-login re-signs the body (and may move the endpoint), the response
check runs on HTTP 200, a rate limit is waited out for any operation, and only idempotent operations are re-sent
after an ambiguous failure.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest

from federation.auth import Credentials, Session
from federation.cancel import CancelToken
from federation.emulation.emulator import Emulator, Mutation
from federation.emulation.server import Exchange, Reply
from federation.errors import AuthenticationError, Cancelled, Error, QueryRejected, SessionExpired, TransientError
from federation.http import HttpClient, Operation, RetryPolicy, status_check
from federation.ratelimit import AccountLimiter, RateLimit
from federation.tokens import StoredLogin

XML = "application/xml"


def envelope(status: str, body: str = "", error: str = "") -> Reply:
    # Every answer is HTTP 200; the outcome is inside.
    text = f"<response><status>{status}</status>{body}{f'<error>{error}</error>' if error else ''}</response>"
    return Reply(200, text.encode(), XML)


class GatewayEmulator(Emulator):
    """`login` gives a session id and the endpoint to use; `read`/`create` carry it inside the XML body."""

    def __init__(self) -> None:
        super().__init__()
        self.sessions: set[str] = set()
        self.created: list[str] = []
        self.lock = threading.Lock()

    def kind_of(self, exchange: Exchange) -> str:
        match = re.search(rb"<(login|read|create|slow)\b", exchange.body)
        return match.group(1).decode() if match else "unknown"

    def handle(self, kind: str, exchange: Exchange) -> Reply:
        if kind == "login":
            if b"<password>right</password>" not in exchange.body:
                return envelope("failure", error="XL03000006 Sign-in information is incorrect")
            session = secrets.token_hex(8)
            with self.lock:
                self.sessions.add(session)
            return envelope("success", f"<sessionid>{session}</sessionid><endpoint>{self.url}/moved</endpoint>")
        if exchange.path != "/moved":
            return envelope("failure", error="wrong endpoint")
        found = re.search(rb"<sessionid>([^<]*)</sessionid>", exchange.body)
        if found is None or found.group(1).decode() not in self.sessions:
            return envelope("failure", error="XL03000006 Invalid session")
        if kind == "slow":
            time.sleep(5)
        if kind == "create":
            with self.lock:
                self.created.append(exchange.body.decode())
            return envelope("success", "<key>1</key>")
        return envelope("success", "<rows>3</rows>")

    def mutate(self, table: str, *, create: int = 0, delete: int = 0) -> Mutation:
        return Mutation((), ())

    def expire_sessions(self) -> None:
        with self.lock:
            self.sessions.clear()


def check(response: httpx.Response) -> Error | None:
    if not response.is_success:
        return status_check(response)
    root = ElementTree.fromstring(response.content)
    if root.findtext("status") == "success":
        return None
    message = root.findtext("error") or "failed"
    if "Invalid session" in message:
        return SessionExpired(message)
    if "Sign-in" in message:
        return AuthenticationError(message)
    return QueryRejected(message)


class GatewayLogin(StoredLogin):
    def __init__(self, http: HttpClient, url: str, password: str) -> None:
        super().__init__(None, "gateway", skew=0)
        self.http, self.url, self.password = http, url, password
        self.logins = 0

    def issue(self, previous: Mapping[str, Any]) -> dict[str, Any]:
        self.logins += 1
        body = f"<request><login><password>{self.password}</password></login></request>".encode()
        login = Operation("login", idempotent=True, authenticated=False)
        root = ElementTree.fromstring(self.http.request("POST", self.url, operation=login, content=body).content)
        return {"access_token": root.findtext("sessionid"), "endpoint": root.findtext("endpoint")}

    def session(self, token: Mapping[str, Any]) -> Session:
        return Session(str(token["access_token"]), str(token["endpoint"]))


class BodySession(Credentials):
    """Puts the session id into the XML body and sends calls to the endpoint the login named."""

    def __init__(self, login: GatewayLogin) -> None:
        super().__init__()
        self.login = login
        self.current: Session | None = None

    def _session(self) -> Session:
        if self.current is None:
            self.current = self.login.login()
        return self.current

    def sign(self, request: httpx.Request) -> httpx.Request:
        session = self._session()
        body = request.content.replace(b"<sessionid/>", f"<sessionid>{session.token}</sessionid>".encode())
        assert session.endpoint is not None
        return httpx.Request(request.method, session.endpoint, content=body, headers={"Content-Type": XML})

    def _renew(self) -> None:
        assert self.current is not None
        self.current = self.login.renew(self.current)


READ = Operation("read", idempotent=True)
CREATE = Operation("create", idempotent=False)


@pytest.fixture()
def gateway() -> Iterator[GatewayEmulator]:
    with GatewayEmulator() as running:
        yield running


def client(gateway: GatewayEmulator, password: str = "right", limiter: AccountLimiter | None = None) -> HttpClient:
    http = HttpClient(source="gateway", check=check, retry=RetryPolicy(attempts=3, base_delay=0.01), limiter=limiter)
    http.auth = BodySession(GatewayLogin(http, gateway.url, password))
    return http


def call(http: HttpClient, kind: str, operation: Operation) -> httpx.Response:
    body = f"<request><sessionid/><{kind}/></request>".encode()
    assert isinstance(http.auth, BodySession)
    # Signing moves the call to the endpoint the login named.
    return http.request("POST", f"{http.auth.login.url}/anywhere", operation=operation, content=body)


def test_a_relogin_re_signs_the_body_and_moves_to_the_new_endpoint(gateway: GatewayEmulator) -> None:
    http = client(gateway)
    assert b"<rows>3</rows>" in call(http, "read", READ).content
    gateway.expire_sessions()
    assert b"<rows>3</rows>" in call(http, "read", READ).content  # the resend carried the new session id
    assert gateway.calls_by_kind["login"] == 2 and gateway.calls_by_kind["read"] == 3


def test_errors_inside_http_200_are_typed_with_the_apis_message(gateway: GatewayEmulator) -> None:
    with pytest.raises(AuthenticationError, match="gateway: login: XL03000006 Sign-in information is incorrect"):
        call(client(gateway, password="wrong"), "read", READ)


def test_a_create_is_never_resent_after_an_ambiguous_failure(gateway: GatewayEmulator) -> None:
    http = client(gateway)
    call(http, "read", READ)
    gateway.inject(500, kinds={"create"}, after_processing=True)
    with pytest.raises(TransientError):
        call(http, "create", CREATE)
    assert len(gateway.created) == 1  # processed once, not re-sent
    gateway.inject(503, kinds={"read"}, times=2)
    assert b"<rows>3</rows>" in call(http, "read", READ).content  # a read is re-sent


def test_a_429_is_waited_out_even_for_a_create(gateway: GatewayEmulator) -> None:
    http = client(gateway, limiter=AccountLimiter(("gateway",), RateLimit()))
    call(http, "read", READ)
    gateway.inject(429, kinds={"create"}, retry_after=0.2)
    started = time.monotonic()
    call(http, "create", CREATE)
    assert time.monotonic() - started >= 0.2
    assert len(gateway.created) == 1


def test_an_interrupt_abandons_a_read_waiting_on_the_network(gateway: GatewayEmulator) -> None:
    http = client(gateway)
    call(http, "read", READ)
    threading.Timer(0.3, http.own.token.cancel, args=("interrupted by the user",)).start()
    started = time.monotonic()
    with pytest.raises(Cancelled, match="interrupted by the user"):
        call(http, "slow", READ)
    assert time.monotonic() - started < 2
    http.own.token.reset()
    assert b"<rows>3</rows>" in call(http, "read", READ).content


def test_an_interrupt_wakes_a_wait_for_the_rate_limiter(gateway: GatewayEmulator) -> None:
    limiter = AccountLimiter(("gateway", "interrupt"), RateLimit())
    http = client(gateway, limiter=limiter)
    call(http, "read", READ)
    limiter.pause(60, "the API answered 429")
    threading.Timer(0.2, http.own.token.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        call(http, "read", READ)
    assert time.monotonic() - started < 2


def test_the_standalone_httpx_auth_flow_renews_and_resends(gateway: GatewayEmulator) -> None:
    http = client(gateway)
    call(http, "read", READ)
    credentials = http.auth
    assert isinstance(credentials, BodySession)
    credentials._refused = lambda response: b"Invalid session" in response.content
    gateway.expire_sessions()
    body = b"<request><sessionid/><read/></request>"
    with httpx.Client(auth=credentials) as plain:
        response = plain.post(f"{gateway.url}/x", content=body)
    assert b"<rows>3</rows>" in response.content


def test_cancel_token_wait_returns_after_the_time_when_not_cancelled() -> None:
    token = CancelToken()
    started = time.monotonic()
    token.wait(0.05)
    assert time.monotonic() - started >= 0.05

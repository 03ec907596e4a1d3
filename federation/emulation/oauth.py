"""An OAuth 2.0 authorization server any emulator mounts: the authorize and token endpoints, and the tokens.

Grants: authorization code (with PKCE S256 and `state`; the consent page approves at once and redirects 302 to
the client's redirect_uri, so a sandbox needs no browser), password and refresh_token (RFC 6749 §4.1, §4.3,
§6). A `TokenPolicy` sets what differs between vendors: the access token's lifetime (``expires_in``) and idle
timeout, whether the password grant issues a refresh token, single-use rotating refresh tokens (each refresh
invalidates the token it used; presenting it again is ``invalid_grant``), and a minimum age before a refresh
(Exact Online refuses one until 570 s after the previous token). Lifetimes run on the emulator's `Clock`.

Replies follow RFC 6749 §5.1/§5.2; a vendor changes the error codes and texts through `errors`, and adds
fields to the token reply (Salesforce's ``instance_url``, ``id``, …) by overriding `token_fields`. An authorize
request from an unknown client or with an unacceptable redirect_uri is answered directly with HTTP 400 and
``{"error", "error_description"}``: redirecting it would send the user agent somewhere nobody vouched for.
The counters (`logins`, `refreshes`, live refresh tokens) let tests check what a client's token store did.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import secrets
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum, auto
from typing import ClassVar
from urllib.parse import urlencode

from .clock import Clock
from .server import Exchange, Json, Reply, json_reply


@dataclass(frozen=True)
class OAuthClient:
    """A registered client application."""

    client_id: str
    client_secret: str
    #: The redirect URIs it registered; empty: any http(s) URL (the sandbox's callback port is chosen free).
    redirect_uris: tuple[str, ...] = ()


@dataclass(frozen=True)
class TokenPolicy:
    """How the server issues and ends tokens."""

    #: Lifetime of an access token from its issue, sent as ``expires_in``; None: none (and no ``expires_in``).
    access_seconds: float | None = 3600.0
    #: An access token unused for this long ends (a session timeout); None: no idle timeout.
    idle_seconds: float | None = None
    #: Whether the password grant also issues a refresh token.
    refresh_on_password: bool = True
    #: Single-use refresh tokens: a refresh returns a new one and the one it used stops working.
    rotate_refresh_tokens: bool = False
    #: A refresh is refused while the newest access token of its grant is younger than this.
    min_refresh_age: float = 0.0
    #: Lifetime of an authorization code.
    code_seconds: float = 600.0


class Refusal(Enum):
    """Why a request was refused; `OAuthServer.errors` maps each to (HTTP status, error, description)."""

    UNKNOWN_CLIENT = auto()
    BAD_CLIENT_SECRET = auto()
    BAD_CREDENTIALS = auto()
    BAD_REFRESH_TOKEN = auto()
    REFRESH_TOO_EARLY = auto()
    BAD_CODE = auto()
    BAD_CODE_VERIFIER = auto()
    REDIRECT_MISMATCH = auto()
    UNSUPPORTED_GRANT = auto()
    UNSUPPORTED_RESPONSE_TYPE = auto()
    BAD_CHALLENGE_METHOD = auto()
    NOT_POST = auto()


#: RFC 6749 §5.2 codes; the texts are this emulator's own.
RFC_ERRORS: Mapping[Refusal, tuple[int, str, str]] = {
    Refusal.UNKNOWN_CLIENT: (401, "invalid_client", "unknown client"),
    Refusal.BAD_CLIENT_SECRET: (401, "invalid_client", "client authentication failed"),
    Refusal.BAD_CREDENTIALS: (400, "invalid_grant", "wrong username or password"),
    Refusal.BAD_REFRESH_TOKEN: (400, "invalid_grant", "the refresh token is invalid, expired, revoked or used"),
    Refusal.REFRESH_TOO_EARLY: (
        400,
        "invalid_request",
        "the access token is not expired yet: a new one is issued {min_refresh_age:g} s after the previous one",
    ),
    Refusal.BAD_CODE: (400, "invalid_grant", "the authorization code is invalid, expired or used"),
    Refusal.BAD_CODE_VERIFIER: (400, "invalid_grant", "the code verifier does not match the code challenge"),
    Refusal.REDIRECT_MISMATCH: (400, "invalid_grant", "redirect_uri does not match the registered one"),
    Refusal.UNSUPPORTED_GRANT: (400, "unsupported_grant_type", "grant type not supported"),
    Refusal.UNSUPPORTED_RESPONSE_TYPE: (400, "unsupported_response_type", "only response_type=code is supported"),
    Refusal.BAD_CHALLENGE_METHOD: (400, "invalid_request", "code_challenge_method must be S256"),
    Refusal.NOT_POST: (405, "invalid_request", "the token endpoint takes POST requests"),
}


@dataclass(frozen=True)
class Grant:
    """Tokens just issued, for `OAuthServer.token_fields`."""

    grant_type: str
    user: str
    client_id: str
    access_token: str
    refresh_token: str | None


class OAuthRefused(Exception):
    """A request the server refuses, rendered from `OAuthServer.errors`."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.name)
        self.refusal = refusal


@dataclass
class _Access:
    user: str
    client_id: str
    issued: float
    last_used: float


@dataclass
class _Refresh:
    user: str
    client_id: str
    #: When the newest access token of this grant was issued (what `min_refresh_age` measures).
    access_issued: float


@dataclass(frozen=True)
class _Code:
    user: str
    client_id: str
    redirect_uri: str
    challenge: str | None
    issued: float


class OAuthServer:
    """The tokens of one emulator: its clients, users (name → password), policy and clock; thread-safe."""

    #: (HTTP status, error, error_description) per refusal; vendors override entries with their own.
    errors: ClassVar[Mapping[Refusal, tuple[int, str, str]]] = RFC_ERRORS

    def __init__(
        self,
        clients: Sequence[OAuthClient],
        users: Mapping[str, str],
        clock: Clock,
        policy: TokenPolicy | None = None,
    ) -> None:
        if not users:
            raise ValueError("an authorization server needs a user to approve as")
        self.clients = {client.client_id: client for client in clients}
        self.users = dict(users)
        self.clock = clock
        self.policy = policy or TokenPolicy()
        self._lock = threading.Lock()
        self._access: dict[str, _Access] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._codes: dict[str, _Code] = {}
        #: Refresh grants answered with new tokens.
        self.refreshes = 0
        #: Password and authorization-code grants answered with new tokens.
        self.logins = 0
        self._live_max = 0

    # -- tokens ---------------------------------------------------------------------------------------------

    def make_access_token(self) -> str:
        """A new access token's text (vendors override the shape)."""
        return secrets.token_urlsafe(48)

    def make_refresh_token(self) -> str:
        """A new refresh token's text."""
        return secrets.token_urlsafe(48)

    def make_code(self) -> str:
        """A new authorization code's text."""
        return secrets.token_urlsafe(32)

    def issue_access_token(self, user: str, client_id: str = "") -> str:
        """An access token for `user` outside any grant (a vendor's own login call, such as SOAP login)."""
        token = self.make_access_token()
        now = self.clock.now()
        with self._lock:
            self._access[token] = _Access(user, client_id, now, now)
        return token

    def check(self, access_token: str) -> str | None:
        """The user of a live access token (counting this as activity), or None."""
        now = self.clock.now()
        policy = self.policy
        with self._lock:
            access = self._access.get(access_token)
            if access is None:
                return None
            if (policy.access_seconds is not None and now - access.issued >= policy.access_seconds) or (
                policy.idle_seconds is not None and now - access.last_used >= policy.idle_seconds
            ):
                del self._access[access_token]
                return None
            access.last_used = now
            return access.user

    def expire_all(self) -> None:
        """End every access token now; refresh tokens stay valid and may be used at once."""
        with self._lock:
            self._access.clear()
            for refresh in self._refresh.values():
                refresh.access_issued = -math.inf

    def revoke(self, token: str) -> bool:
        """Revoke an access or refresh token; whether it was live."""
        with self._lock:
            return self._access.pop(token, None) is not None or self._refresh.pop(token, None) is not None

    @property
    def live_refresh_tokens(self) -> int:
        """Refresh tokens valid now, for all clients and users."""
        with self._lock:
            return len(self._refresh)

    @property
    def max_live_refresh_tokens(self) -> int:
        """The most refresh tokens that were valid at once for one client and user."""
        with self._lock:
            return self._live_max

    # -- endpoints ------------------------------------------------------------------------------------------

    def authorize(self, exchange: Exchange) -> Reply:
        """The authorize endpoint: approve at once and redirect to the client's redirect_uri with a code."""
        params = {**exchange.params, **exchange.form()}
        client = self.clients.get(params.get("client_id", ""))
        if client is None:
            return self.error_reply(Refusal.UNKNOWN_CLIENT, status=400)
        redirect_uri = params.get("redirect_uri", "")
        if not _acceptable_redirect(client, redirect_uri):
            return self.error_reply(Refusal.REDIRECT_MISMATCH, status=400)
        state = {"state": params["state"]} if "state" in params else {}
        challenge = params.get("code_challenge") or None
        refusal = None
        if params.get("response_type") != "code":
            refusal = Refusal.UNSUPPORTED_RESPONSE_TYPE
        elif challenge and params.get("code_challenge_method", "S256") != "S256":
            refusal = Refusal.BAD_CHALLENGE_METHOD
        if refusal is not None:
            _, error, description = self.errors[refusal]
            return _redirect(redirect_uri, {"error": error, "error_description": description, **state})
        code = self.make_code()
        user = next(iter(self.users))
        with self._lock:
            self._codes[code] = _Code(user, client.client_id, redirect_uri, challenge, self.clock.now())
        return _redirect(redirect_uri, {"code": code, **state})

    def token(self, exchange: Exchange) -> Reply:
        """The token endpoint: password, authorization_code and refresh_token grants."""
        try:
            if exchange.method != "POST":
                raise OAuthRefused(Refusal.NOT_POST)
            grant = self._grant(exchange.form(), _basic_credentials(exchange))
        except OAuthRefused as refused:
            return self.error_reply(refused.refusal)
        payload: dict[str, Json] = {"access_token": grant.access_token, "token_type": "Bearer"}
        if self.policy.access_seconds is not None:
            payload["expires_in"] = int(self.policy.access_seconds)
        if grant.refresh_token is not None:
            payload["refresh_token"] = grant.refresh_token
        payload.update(self.token_fields(grant, exchange.base_url))
        return json_reply(200, payload, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    def token_fields(self, grant: Grant, base_url: str) -> dict[str, Json]:
        """Vendor fields added to a token reply; `base_url` is the scheme://host the client used."""
        return {}

    def error_reply(self, refusal: Refusal, *, status: int | None = None) -> Reply:
        """The ``{"error", "error_description"}`` reply for a refusal (its status from `errors` unless given)."""
        default_status, error, description = self.errors[refusal]
        text = description.format(min_refresh_age=self.policy.min_refresh_age)
        status = status or default_status
        headers = {"WWW-Authenticate": 'Basic realm="oauth"'} if status == 401 else {}
        return json_reply(status, {"error": error, "error_description": text}, headers)

    # -- grants ---------------------------------------------------------------------------------------------

    def _grant(self, form: Mapping[str, str], basic: tuple[str, str] | None) -> Grant:
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret"))
        client = self.clients.get(client_id)
        if client is None:
            raise OAuthRefused(Refusal.UNKNOWN_CLIENT)
        if secret is not None and not secrets.compare_digest(secret, client.client_secret):
            raise OAuthRefused(Refusal.BAD_CLIENT_SECRET)
        grant_type = form.get("grant_type", "")
        if grant_type == "password":
            if secret is None:
                raise OAuthRefused(Refusal.BAD_CLIENT_SECRET)
            user = form.get("username", "")
            if user not in self.users or form.get("password") != self.users[user]:
                raise OAuthRefused(Refusal.BAD_CREDENTIALS)
            return self._issue(grant_type, user, client_id, refresh=self.policy.refresh_on_password)
        if grant_type == "authorization_code":
            code = self._redeem(form, client_id, has_secret=secret is not None)
            return self._issue(grant_type, code.user, client_id, refresh=True)
        if grant_type == "refresh_token":
            return self._refresh_grant(form.get("refresh_token", ""), client_id)
        raise OAuthRefused(Refusal.UNSUPPORTED_GRANT)

    def _redeem(self, form: Mapping[str, str], client_id: str, *, has_secret: bool) -> _Code:
        with self._lock:
            # A code is used up by any attempt to redeem it, as RFC 6749 §4.1.2 asks.
            code = self._codes.pop(form.get("code", ""), None)
        if code is None or code.client_id != client_id or self.clock.now() - code.issued > self.policy.code_seconds:
            raise OAuthRefused(Refusal.BAD_CODE)
        if form.get("redirect_uri") != code.redirect_uri:
            raise OAuthRefused(Refusal.REDIRECT_MISMATCH)
        if code.challenge is not None:
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != code.challenge:
                raise OAuthRefused(Refusal.BAD_CODE_VERIFIER)
        elif not has_secret:
            # Without PKCE only the client secret proves the caller is the client that asked for the code.
            raise OAuthRefused(Refusal.BAD_CLIENT_SECRET)
        return code

    def _refresh_grant(self, refresh_token: str, client_id: str) -> Grant:
        now = self.clock.now()
        with self._lock:
            refresh = self._refresh.get(refresh_token)
            if refresh is None or refresh.client_id != client_id:
                raise OAuthRefused(Refusal.BAD_REFRESH_TOKEN)
            if now - refresh.access_issued < self.policy.min_refresh_age:
                raise OAuthRefused(Refusal.REFRESH_TOO_EARLY)
            if self.policy.rotate_refresh_tokens:
                del self._refresh[refresh_token]
            else:
                refresh.access_issued = now
            self.refreshes += 1
        rotate = self.policy.rotate_refresh_tokens
        return self._issue("refresh_token", refresh.user, client_id, refresh=rotate, counted=False)

    def _issue(self, grant_type: str, user: str, client_id: str, *, refresh: bool, counted: bool = True) -> Grant:
        access_token = self.issue_access_token(user, client_id)
        refresh_token = self.make_refresh_token() if refresh else None
        with self._lock:
            if counted:
                self.logins += 1
            if refresh_token is not None:
                self._refresh[refresh_token] = _Refresh(user, client_id, self.clock.now())
                live = Counter((one.client_id, one.user) for one in self._refresh.values())
                self._live_max = max(self._live_max, live[client_id, user])
        return Grant(grant_type, user, client_id, access_token, refresh_token)


def _acceptable_redirect(client: OAuthClient, redirect_uri: str) -> bool:
    if client.redirect_uris:
        return redirect_uri in client.redirect_uris
    return redirect_uri.startswith(("http://", "https://"))


def _redirect(redirect_uri: str, query: Mapping[str, str]) -> Reply:
    separator = "&" if "?" in redirect_uri else "?"
    return Reply(302, b"", "text/html", {"Location": f"{redirect_uri}{separator}{urlencode(query)}"})


def _basic_credentials(exchange: Exchange) -> tuple[str, str] | None:
    """Client credentials sent as HTTP Basic authentication (RFC 6749 §2.3.1), or None."""
    scheme, _, encoded = exchange.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return client_id, secret

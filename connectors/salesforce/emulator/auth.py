"""Sessions and the login flows that issue them: SOAP login, and the OAuth 2.0 token endpoint's grants.

The credentials are the vendors' documented placeholders. Access tokens (SOAP session Ids are the same thing)
expire after `session_seconds` of inactivity, as the platform's session timeout does, or all at once by
`expire_all`; refresh tokens stay valid (and are not rotated) until revoked. Every response body here is
the platform's: SOAP faults for SOAP, ``{"error", "error_description"}`` for OAuth.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

USERNAME = "myUser"
PASSWORD = "myPassword"
SECURITY_TOKEN = "myToken"
CLIENT_ID = "MyOAuthClientId"
CLIENT_SECRET = "MyOAuthClientSecret"
#: Authorization codes live this long, as on the platform.
CODE_SECONDS = 15 * 60


class OAuthError(Exception):
    """An OAuth failure: HTTP 400 with ``{"error", "error_description"}``."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.body = {"error": error, "error_description": description}


@dataclass
class _Session:
    user_id: str
    last_used: float


@dataclass(frozen=True)
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str | None
    issued: float


class Auth:
    """The org's one user and its sessions, refresh tokens and pending authorization codes."""

    def __init__(
        self, org_id: str, user_id: str, session_seconds: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.org_id = org_id
        self.user_id = user_id
        self.session_seconds = session_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}
        self._refresh_tokens: dict[str, str] = {}
        self._codes: dict[str, _Code] = {}

    # -- sessions -------------------------------------------------------------------------------------------

    def new_session(self) -> str:
        """Issue an access token in the platform's shape: the org Id, ``!``, then an opaque secret."""
        token = f"{self.org_id[:15]}!AQ{secrets.token_urlsafe(72)}"
        with self._lock:
            self._sessions[token] = _Session(self.user_id, self._clock())
        return token

    def check(self, token: str) -> str | None:
        """The user Id of a live session (extending it, as activity does), or None."""
        now = self._clock()
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if now - session.last_used > self.session_seconds:
                del self._sessions[token]
                return None
            session.last_used = now
            return session.user_id

    def expire_all(self) -> None:
        """End every session; refresh tokens stay valid, so clients can get new ones."""
        with self._lock:
            self._sessions.clear()

    def revoke(self, token: str) -> bool:
        """Revoke an access or refresh token; whether it was known."""
        with self._lock:
            return self._sessions.pop(token, None) is not None or self._refresh_tokens.pop(token, None) is not None

    # -- OAuth ----------------------------------------------------------------------------------------------

    def authorize(self, params: Mapping[str, str]) -> str:
        """Approve an authorization request at once (the sandbox's consent page) and return the redirect URL."""
        if params.get("client_id") != CLIENT_ID:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri.startswith(("http://", "https://")):
            raise OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
        if params.get("response_type") != "code":
            raise OAuthError("unsupported_response_type", "response type not supported")
        challenge = params.get("code_challenge")
        if challenge and params.get("code_challenge_method", "S256") != "S256":
            raise OAuthError("invalid_request", "invalid code_challenge_method")
        code = f"aPrx{secrets.token_urlsafe(48)}"
        with self._lock:
            self._codes[code] = _Code(CLIENT_ID, redirect_uri, challenge, self._clock())
        query = {"code": code} | ({"state": params["state"]} if "state" in params else {})
        separator = "&" if "?" in redirect_uri else "?"
        return f"{redirect_uri}{separator}{urlencode(query)}"

    def token(self, form: Mapping[str, str], basic: tuple[str, str] | None, base_url: str) -> dict[str, Any]:
        """Answer ``POST /services/oauth2/token`` for the password, refresh_token and authorization_code grants."""
        client_id, client_secret = basic or (form.get("client_id", ""), form.get("client_secret"))
        if client_id != CLIENT_ID:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if client_secret is not None and client_secret != CLIENT_SECRET:
            raise OAuthError("invalid_client", "invalid client credentials")
        grant = form.get("grant_type")
        if grant == "password":
            if client_secret is None:
                raise OAuthError("invalid_client", "invalid client credentials")
            if form.get("username") != USERNAME or form.get("password") != PASSWORD + SECURITY_TOKEN:
                raise OAuthError("invalid_grant", "authentication failure")
            return self._grant(base_url, refresh=False)
        if grant == "refresh_token":
            with self._lock:
                known = form.get("refresh_token", "") in self._refresh_tokens
            if not known:
                raise OAuthError("invalid_grant", "expired access/refresh token")
            return self._grant(base_url, refresh=False) | {"scope": "api refresh_token"}
        if grant == "authorization_code":
            self._redeem(form, client_secret)
            return self._grant(base_url, refresh=True)
        raise OAuthError("unsupported_grant_type", "grant type not supported")

    def _redeem(self, form: Mapping[str, str], client_secret: str | None) -> None:
        with self._lock:
            code = self._codes.pop(form.get("code", ""), None)
        if code is None or self._clock() - code.issued > CODE_SECONDS:
            raise OAuthError("invalid_grant", "invalid authorization code")
        if form.get("redirect_uri") != code.redirect_uri:
            raise OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
        verifier = form.get("code_verifier")
        if code.challenge is not None:
            digest = hashlib.sha256((verifier or "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != code.challenge:
                raise OAuthError("invalid_grant", "invalid code verifier")
        elif client_secret is None:
            # The web-server flow needs the client secret unless PKCE proves the caller is the one who asked.
            raise OAuthError("invalid_client", "invalid client credentials")

    def _grant(self, base_url: str, *, refresh: bool) -> dict[str, Any]:
        identity = f"{base_url}/id/{self.org_id}/{self.user_id}"
        issued_at = str(int(time.time() * 1000))
        signature = hmac.new(CLIENT_SECRET.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
        payload: dict[str, Any] = {"access_token": self.new_session()}
        if refresh:
            refresh_token = f"5Aep{secrets.token_urlsafe(64)}"
            with self._lock:
                self._refresh_tokens[refresh_token] = self.user_id
            payload |= {"refresh_token": refresh_token, "scope": "api refresh_token"}
        return payload | {
            "signature": base64.b64encode(signature).decode(),
            "instance_url": base_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
        }

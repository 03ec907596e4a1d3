"""OAuth 2.0 for connectors: the token store, refresh, and the authorization-code flow with a loopback listener.

`InitiateOAuth` decides what happens, as in the vendors' own connectors:
- `OFF`: use `OAuthAccessToken` as given; when it expires the user must supply a new one.
- `REFRESH`: refresh with the stored (or given) refresh token; never open a browser.
- `GETANDREFRESH`: use the stored tokens, refresh them when they expire, and run the authorization-code flow
  (PKCE, state, a listener on the loopback `CallbackURL`) when there are none or the refresh token is dead.

Tokens live in `OAuthSettingsLocation`, a JSON file created with mode 0600 and rewritten atomically after
every refresh. authlib's protocol helpers (RFC 6749 request building, RFC 7636 PKCE) build the requests; they
go out through the connector's own `HttpClient`, so token calls get the same timeouts and error handling.

When the authorization server itself is on a loopback address (the sandbox, whose consent page approves on its
own) there is no person to involve, so duckfed plays the browser: it follows the redirects itself.
"""

from __future__ import annotations

import ipaddress
import os
import queue
import secrets
import tempfile
import threading
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from federation.errors import AuthenticationError, ConfigurationError
from federation.http import HttpClient

#: Seconds a person gets to approve access in the browser.
CONSENT_TIMEOUT = 300.0


class TokenStore:
    """The token file: read as JSON, written atomically with mode 0600 (it holds a refresh token)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any] | None:
        try:
            data = orjson.loads(self.path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, orjson.JSONDecodeError) as error:
            raise ConfigurationError(f"OAuthSettingsLocation {self.path} can't be read: {error}") from None
        return data if isinstance(data, dict) else None

    def save(self, token: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".token-", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(orjson.dumps(token))
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


@dataclass(frozen=True)
class OAuthEndpoints:
    authorize_url: str
    token_url: str


Opener = Callable[[str], object]


class OAuthFlow:
    """Tokens for one client and user, per the `InitiateOAuth` mode."""

    def __init__(
        self,
        *,
        http: HttpClient,
        source: str,
        endpoints: OAuthEndpoints,
        client_id: str,
        client_secret: str | None,
        callback_url: str,
        store: TokenStore | None,
        initiate: str,
        access_token: str | None = None,
        refresh_token: str | None = None,
        open_url: Opener | None = None,
        scope: str | None = None,
    ) -> None:
        self.http = http
        self.source = source
        self.endpoints = endpoints
        self.client_id = client_id
        self.client_secret = client_secret
        self.callback_url = callback_url
        self.store = store
        self.initiate = initiate
        self.scope = scope
        self._open_url = open_url
        stored = store.load() if store else None
        self.token: dict[str, Any] = dict(stored or {})
        if access_token:
            self.token["access_token"] = access_token
        if refresh_token:
            self.token["refresh_token"] = refresh_token

    def _token_request(self, grant_type: str, **params: str) -> dict[str, Any]:
        """POST a token request (client credentials in the body) and return the token it grants."""
        secret = {"client_secret": self.client_secret} if self.client_secret else {}
        body = prepare_token_request(grant_type, client_id=self.client_id, **secret, **params)
        response = self.http.request(
            "POST",
            self.endpoints.token_url,
            operation=f"OAuth {grant_type.replace('_', ' ')}",
            authenticated=False,
            idempotent=False,  # an authorization code is single-use; re-sending it can only fail
            content=body.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )
        token = orjson.loads(response.content)
        if not isinstance(token, dict) or "access_token" not in token:
            raise AuthenticationError("the token endpoint answered without an access token", source=self.source)
        return token

    def current(self) -> dict[str, Any]:
        """A token to use now: the stored one, or a new one per the mode."""
        if self.token.get("access_token"):
            return self.token
        if self.token.get("refresh_token") and self.initiate != "OFF":
            return self.renew()
        if self.initiate == "GETANDREFRESH":
            return self._authorize()
        missing = "OAuthAccessToken" if self.initiate == "OFF" else "a refresh token in OAuthSettingsLocation"
        raise ConfigurationError(f"InitiateOAuth={self.initiate} needs {missing}", source=self.source)

    def renew(self) -> dict[str, Any]:
        """A fresh access token after the API refused the current one."""
        if self.initiate == "OFF":
            raise AuthenticationError(
                "the OAuth access token was refused and InitiateOAuth=OFF does not refresh it; supply a new "
                "OAuthAccessToken or use InitiateOAuth=GETANDREFRESH",
                source=self.source,
            )
        refresh = self.token.get("refresh_token")
        if refresh:
            try:
                fresh = self._token_request("refresh_token", refresh_token=refresh)
            except AuthenticationError:
                # A dead refresh token: GETANDREFRESH asks for consent again, REFRESH can't.
                if self.initiate != "GETANDREFRESH":
                    raise
            else:
                # Some servers don't rotate the refresh token and leave it out of the reply: keep ours then.
                fresh.setdefault("refresh_token", refresh)
                return self._keep(fresh)
        if self.initiate == "GETANDREFRESH":
            return self._authorize()
        raise AuthenticationError("no refresh token to renew the OAuth session with", source=self.source)

    def _keep(self, token: dict[str, Any]) -> dict[str, Any]:
        self.token = token
        if self.store is not None:
            self.store.save(token)
        return token

    def _authorize(self) -> dict[str, Any]:
        """The authorization-code flow: consent in a browser, the code caught by a loopback listener."""
        callback = urlsplit(self.callback_url)
        if not _is_loopback(callback.hostname or ""):
            raise ConfigurationError(
                f"CallbackURL must be a loopback address such as http://localhost:33333 to catch the "
                f"authorization code, not {self.callback_url}",
                source=self.source,
            )
        verifier = secrets.token_urlsafe(48)
        state = secrets.token_urlsafe(24)
        url = prepare_grant_uri(
            self.endpoints.authorize_url,
            self.client_id,
            "code",
            redirect_uri=self.callback_url,
            scope=self.scope,
            state=state,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        with _Listener(callback.hostname or "127.0.0.1", callback.port or 80, callback.path or "/") as listener:
            self._opener()(url)
            query = listener.wait(CONSENT_TIMEOUT)
        if query.get("state") != state:
            raise AuthenticationError("the authorization response's state did not match", source=self.source)
        if "error" in query or "code" not in query:
            detail = query.get("error_description") or query.get("error") or "no code"
            raise AuthenticationError(f"authorization was refused: {detail}", source=self.source)
        token = self._token_request(
            "authorization_code", code=query["code"], redirect_uri=self.callback_url, code_verifier=verifier
        )
        return self._keep(token)

    def _opener(self) -> Opener:
        if self._open_url is not None:
            return self._open_url
        if _is_loopback(urlsplit(self.endpoints.authorize_url).hostname or ""):
            return _follow
        return webbrowser.open


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _follow(url: str) -> None:
    """Act as the user agent for a loopback authorization server: follow its redirects to the callback."""
    with httpx.Client(follow_redirects=True, timeout=30.0) as agent:
        agent.get(url)


class _Listener:
    """A one-request HTTP server on the callback address that hands over the authorization response."""

    def __init__(self, host: str, port: int, path: str) -> None:
        received: queue.Queue[dict[str, str]] = queue.Queue()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path.rstrip("/") != path.rstrip("/"):
                    self.send_error(404)
                    return
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                body = b"duckfed: authorization received; you can close this window."
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                received.put(query)

            def log_message(self, format: str, *args: Any) -> None:
                return  # the query string carries the authorization code: never log it

        self._received = received
        try:
            self._server = HTTPServer((host, port), Handler)
        except OSError as error:
            raise ConfigurationError(f"can't listen on CallbackURL {host}:{port}: {error}") from None
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> _Listener:
        self._thread.start()
        return self

    def wait(self, timeout: float) -> dict[str, str]:
        try:
            return self._received.get(timeout=timeout)
        except queue.Empty:
            raise AuthenticationError(f"no authorization response within {timeout:.0f} seconds") from None

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

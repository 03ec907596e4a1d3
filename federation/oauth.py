"""OAuth 2.0 for every connector: properties, token requests, the consent flow and safe refresh.

`InitiateOAuth` decides what happens, as in the vendors' own connectors:
- `OFF`: use `OAuthAccessToken` as given; when it is refused the user must supply a new one.
- `REFRESH`: refresh with the stored (or given) refresh token; never ask for consent.
- `GETANDREFRESH`: use stored tokens, refresh them when they expire, and get new ones when there are none or the
  refresh token is dead — by the password grant when `User` and `Password` are given to a connector that
  supports it, else by the authorization-code flow (PKCE, state, a listener on the `CallbackURL`'s host:port).

`OAuthFlow` is a `federation.auth.Login`: `SessionAuth` asks it for a session lazily, renews it before expiry
(minus the connector's `OAuthPolicy.refresh_skew`) and after a 401. Tokens live in the shared, locked
`federation.tokens.TokenStore`; a renewal re-reads the store under its lock and adopts a token that another
connection or process already rotated, so single-use refresh tokens survive pooled connections and processes.

Consent: when the authorization server is on a loopback address (the sandbox, whose consent page approves at
once) duckfed plays the browser and follows the redirects itself, failing at once with the server's error if it
answers one. Otherwise it opens a browser; where there is none (a server, a container, or `DUCKFED_NO_BROWSER`
set) it prints the authorize URL and accepts the redirected URL pasted back on standard input, and
`duckfed login SCHEME` fills the store ahead of time. authlib's RFC 6749/7636 helpers build the requests; they
go out through the connector's own `HttpClient`, so token calls get the same timeouts, retries and error types.
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson

from federation.auth import Session
from federation.errors import AuthenticationError, ConfigurationError, Error
from federation.http import HttpClient, Operation, redact_url, status_check
from federation.settings import Kind, Secret, Settings, is_loopback, setting
from federation.tokens import StoredLogin, TokenStore, expiry, token_key

log = logging.getLogger("duckfed.oauth")

#: Seconds a person gets to approve access in the browser.
CONSENT_TIMEOUT = 300.0
DEFAULT_CALLBACK = "http://localhost:33333"


@dataclass(frozen=True)
class OAuthSettings(Settings):
    """The OAuth connection properties, declared once for every connector that uses OAuth."""

    initiate_oauth: str = setting(
        "InitiateOAuth",
        kind=Kind.CHOICE,
        default="OFF",
        choices=("OFF", "GETANDREFRESH", "REFRESH"),
        doc="How OAuth tokens are obtained: OFF (use OAuthAccessToken), REFRESH (refresh the stored token), "
        "GETANDREFRESH (also ask for consent when there is no usable token).",
    )
    oauth_client_id: str | None = setting("OAuthClientId", doc="The OAuth app's client id.")
    oauth_client_secret: Secret | None = setting("OAuthClientSecret", doc="The OAuth app's client secret.")
    callback_url: str = setting(
        "CallbackURL",
        kind=Kind.URL,
        default=DEFAULT_CALLBACK,
        doc="The OAuth app's redirect URL; duckfed listens on its host and port for the authorization code.",
    )
    oauth_access_token: Secret | None = setting("OAuthAccessToken", doc="An access token to use as is.")
    oauth_refresh_token: Secret | None = setting("OAuthRefreshToken", doc="A refresh token to get access tokens with.")
    oauth_settings_location: Path | None = setting(
        "OAuthSettingsLocation",
        doc="The token file (mode 0600), shared safely by connections and processes; default "
        "~/.duckfed/<scheme>-oauth.json.",
    )

    @property
    def uses_oauth(self) -> bool:
        return self.initiate_oauth != "OFF" or self.oauth_access_token is not None

    def token_file(self, scheme: str) -> Path:
        return self.oauth_settings_location or Path.home() / ".duckfed" / f"{scheme}-oauth.json"


@dataclass(frozen=True)
class OAuthEndpoints:
    authorize_url: str
    token_url: str


@dataclass(frozen=True)
class OAuthPolicy:
    """A vendor's token rules."""

    #: Renew this many seconds before the access token's expiry. Exact Online refuses a new token until 570 s
    #: of its 600 have passed, so its skew must stay under 30 s.
    refresh_skew: float = 60.0
    scope: str | None = None
    #: Extra fields of the token response that calls need (Salesforce: instance_url).
    keep: tuple[str, ...] = ()


Opener = Callable[[str], object]


def reveal(secret: Secret | None) -> str:
    return secret.reveal() if secret is not None else ""


class OAuthFlow(StoredLogin):
    """Tokens for one client and user, per the `InitiateOAuth` mode; a `federation.auth.Login`."""

    def __init__(
        self,
        *,
        http: HttpClient,
        source: str,
        endpoints: OAuthEndpoints,
        settings: OAuthSettings,
        policy: OAuthPolicy = OAuthPolicy(),
        password: tuple[str, str] | None = None,
        open_url: Opener | None = None,
        endpoint_of: Callable[[Mapping[str, Any]], str | None] = lambda token: None,
    ) -> None:
        if settings.initiate_oauth != "OFF" and not settings.oauth_client_id:
            raise ConfigurationError(
                f"property OAuthClientId is required with InitiateOAuth={settings.initiate_oauth}", source=source
            )
        if settings.initiate_oauth == "OFF" and settings.oauth_access_token is None:
            raise ConfigurationError("InitiateOAuth=OFF needs OAuthAccessToken", source=source)
        principal = settings.oauth_client_id or "token"
        if password is not None:
            principal = f"{password[0]} {principal}"
        given = {
            "access_token": reveal(settings.oauth_access_token),
            "refresh_token": reveal(settings.oauth_refresh_token),
        }
        store = TokenStore.at(settings.token_file(source)) if settings.initiate_oauth != "OFF" else None
        super().__init__(
            store,
            token_key(source, endpoints.token_url, principal),
            skew=policy.refresh_skew,
            initial={k: v for k, v in given.items() if v},
        )
        self.http = http
        self.source = source
        self.endpoints = endpoints
        self.settings = settings
        self.policy = policy
        self._password = password
        self._open_url = open_url
        self._endpoint_of = endpoint_of

    def issue(self, previous: Mapping[str, Any]) -> dict[str, Any]:
        """Refresh, else the password grant or consent, per the mode (the store's lock is held)."""
        if self.store is None:
            raise AuthenticationError(
                "the OAuth access token was refused and InitiateOAuth=OFF does not refresh it; supply a new "
                "OAuthAccessToken or use InitiateOAuth=GETANDREFRESH",
                source=self.source,
            )
        refresh = previous.get("refresh_token")
        if refresh:
            try:
                fresh = self._token_request("refresh_token", refresh_token=str(refresh))
            except AuthenticationError as error:
                if self.settings.initiate_oauth != "GETANDREFRESH":
                    raise
                log.info("%s: the refresh token was refused (%s); getting a new one", self.source, error.message)
            else:
                # Servers that don't rotate leave the refresh token out of the reply: keep ours then.
                fresh.setdefault("refresh_token", refresh)
                return self._kept(fresh)
        if self.settings.initiate_oauth != "GETANDREFRESH":
            raise AuthenticationError(
                "no usable refresh token in OAuthSettingsLocation; use InitiateOAuth=GETANDREFRESH or run "
                f"`duckfed login {self.source}`",
                source=self.source,
            )
        if self._password is not None:
            user, password = self._password
            return self._kept(self._token_request("password", username=user, password=password))
        return self._kept(self._authorize())

    def _kept(self, token: Mapping[str, Any]) -> dict[str, Any]:
        fields = ("access_token", "refresh_token", "expires_in", *self.policy.keep)
        return {k: token[k] for k in fields if k in token}

    def session(self, token: Mapping[str, Any]) -> Session:
        expires_at, lifetime = expiry(token)
        extra = {k: str(token[k]) for k in self.policy.keep if k in token}
        return Session(str(token["access_token"]), self._endpoint_of(token), expires_at, extra, lifetime)

    def _token_request(self, grant_type: str, **params: str) -> dict[str, Any]:
        """POST a token request (client credentials in the body) and return the token it grants."""
        # Imported here: a process that finds a valid stored token never needs authlib (90 ms to import).
        from authlib.oauth2.rfc6749.parameters import prepare_token_request

        secret = reveal(self.settings.oauth_client_secret)
        body = prepare_token_request(
            grant_type,
            client_id=self.settings.oauth_client_id,
            **({"client_secret": secret} if secret else {}),
            **params,
        )
        response = self.http.request(
            "POST",
            self.endpoints.token_url,
            # An authorization code and a single-use refresh token can only be spent once.
            operation=Operation(
                f"OAuth {grant_type.replace('_', ' ')}", idempotent=False, authenticated=False, metered=False
            ),
            check=token_check,
            content=body.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )
        token = orjson.loads(response.content)
        if not isinstance(token, dict) or "access_token" not in token:
            raise AuthenticationError("the token endpoint answered without an access token", source=self.source)
        return token

    def _authorize(self) -> dict[str, Any]:
        """The authorization-code flow: consent in a browser, the code caught by a listener on CallbackURL."""
        from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
        from authlib.oauth2.rfc7636 import create_s256_code_challenge

        callback = urlsplit(self.settings.callback_url)
        verifier = secrets.token_urlsafe(48)
        state = secrets.token_urlsafe(24)
        url = prepare_grant_uri(
            self.endpoints.authorize_url,
            self.settings.oauth_client_id,
            "code",
            redirect_uri=self.settings.callback_url,
            scope=self.policy.scope,
            state=state,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        port = callback.port or (443 if callback.scheme == "https" else 80)
        with _Listener(callback.hostname or "127.0.0.1", port, callback.path or "/", self.source) as listener:
            self._consent(url, listener)
            query = listener.wait(CONSENT_TIMEOUT)
        if "error" in query:
            detail = query.get("error_description") or query["error"]
            raise AuthenticationError(
                f"authorization was refused: {detail}", source=self.source, api_code=query["error"]
            )
        if query.get("state") != state:
            raise AuthenticationError("the authorization response's state did not match", source=self.source)
        if "code" not in query:
            raise AuthenticationError("the authorization response had no code", source=self.source)
        return self._token_request(
            "authorization_code", code=query["code"], redirect_uri=self.settings.callback_url, code_verifier=verifier
        )

    def _consent(self, url: str, listener: _Listener) -> None:
        import webbrowser  # here: only a consent flow opens a browser, and a stored token is the usual case

        if self._open_url is not None:
            self._open_url(url)
        elif is_loopback(urlsplit(self.endpoints.authorize_url).hostname or ""):
            _follow(url, self.source)
        elif os.environ.get("DUCKFED_NO_BROWSER") or not webbrowser.open(url):
            if not sys.stdin or not sys.stdin.isatty():
                raise ConfigurationError(
                    "OAuth consent needs a browser and none is available here; run `duckfed login "
                    f"{self.source}` in a terminal to store a token in OAuthSettingsLocation first",
                    source=self.source,
                )
            paste_redirect(url, listener)


def token_check(response: httpx.Response) -> Error | None:
    """Token endpoint errors (RFC 6749 §5.2): a refused grant or client is an `AuthenticationError`."""
    if response.is_success:
        return None
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = {}
    if isinstance(body, dict) and "error" in body and response.status_code < 500 and response.status_code != 429:
        message = str(body.get("error_description") or body["error"])
        return AuthenticationError(message, api_code=str(body["error"]))
    return status_check(response)


def paste_redirect(url: str, listener: _Listener) -> None:
    """Headless consent: show the URL, and take the browser's final (redirected) URL pasted back."""
    print(
        f"Open this URL in a browser, approve access, then paste the address it redirects to:\n{url}", file=sys.stderr
    )

    def read() -> None:
        line = sys.stdin.readline().strip()
        if line:
            listener.deliver({k: v[0] for k, v in parse_qs(urlsplit(line).query).items()})

    threading.Thread(target=read, daemon=True, name="duckfed-oauth-paste").start()


def _follow(url: str, source: str) -> None:
    """Act as the user agent for a loopback authorization server: follow its redirects to the callback, and fail
    at once with the server's own error when it answers one instead of redirecting."""
    with httpx.Client(follow_redirects=True, timeout=30.0) as agent:
        response = agent.get(url)
    if response.is_success:
        return
    try:
        body = orjson.loads(response.content)
        detail = str(body.get("error_description") or body.get("error")) if isinstance(body, dict) else ""
    except orjson.JSONDecodeError:
        detail = response.text.strip()[:300]
    raise AuthenticationError(
        f"the authorization server refused the request: {detail or f'HTTP {response.status_code}'}", source=source
    )


class _Listener:
    """A one-request HTTP server on the callback address that hands over the authorization response."""

    def __init__(self, host: str, port: int, path: str, source: str) -> None:
        from http.server import BaseHTTPRequestHandler, HTTPServer  # here: only a consent flow listens

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
                log.debug("callback: %s", redact_url(format % args))  # the query carries the code

        self._received = received
        try:
            self._server = HTTPServer((host, port), Handler)
        except PermissionError:
            raise ConfigurationError(
                f"can't listen on CallbackURL port {port}: ports below 1024 need administrator rights; register "
                "a CallbackURL with a higher port (e.g. http://localhost:33333) in the OAuth app and set it here",
                source=source,
            ) from None
        except OSError as error:
            raise ConfigurationError(f"can't listen on CallbackURL {host}:{port}: {error}", source=source) from None
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="duckfed-oauth-callback")

    def __enter__(self) -> _Listener:
        self._thread.start()
        return self

    def deliver(self, query: dict[str, str]) -> None:
        self._received.put(query)

    def wait(self, timeout: float) -> dict[str, str]:
        try:
            return self._received.get(timeout=timeout)
        except queue.Empty:
            raise AuthenticationError(f"no authorization response within {timeout:.0f} seconds") from None

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

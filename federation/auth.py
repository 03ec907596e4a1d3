"""Authentication as an `httpx.Auth` flow that may rewrite the whole request, not only its headers.

A `Credentials` object signs each request with the current session (`apply`) and gets a new session when the
API refuses it (`renew`). Signing may set a header (a Bearer token), rewrite the body (Intacct puts its session
id inside the XML) or change the endpoint (a login names the host that later calls go to): the HTTP client calls
`apply` again for every attempt, so a request re-sent after a re-login carries the new credential.

Many connections and threads may see the same refusal at once; each request remembers which session generation
signed it, and `renew` only logs in again when that generation is still the current one, so one refusal costs
one login however many requests saw it.

`SessionAuth` is the usual implementation: sessions come from a `Login` (a password login call, an OAuth token
flow, …), are obtained lazily on the first call, renewed before their known expiry (minus a skew) and after a
refusal, and signed as `Authorization: Bearer <token>` unless a subclass signs them differently.
"""

from __future__ import annotations

import abc
import threading
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import httpx

_GENERATION = "duckfed.session_generation"


@dataclass(frozen=True)
class Session:
    """A credential the API issued: its token, the base URL later calls go to, and when it expires."""

    token: str = field(repr=False)
    endpoint: str | None = None
    #: POSIX time after which the API refuses the token, when known.
    expires_at: float | None = None
    #: Whatever else the login returned that calls need (a user id, a company id, …).
    extra: Mapping[str, str] = field(default_factory=dict)
    #: Seconds the token was issued for, when known (short-lived tokens are renewed proportionally early).
    lifetime: float | None = None

    def expired(self, skew: float, now: float | None = None) -> bool:
        return self.expires_at is not None and (now or time.time()) >= self.expires_at - skew

    def expired_soon(self, skew: float) -> bool:
        """Whether to renew now: `skew` seconds before expiry, or a tenth of the lifetime for short ones."""
        if self.expires_at is None:
            return False
        return self.expired(min(skew, 0.1 * self.lifetime)) if self.lifetime else self.expired(skew)


class Login(Protocol):
    """How a connector obtains sessions."""

    def login(self) -> Session:
        """A usable session: a stored one, or a new one."""
        ...

    def renew(self, stale: Session) -> Session:
        """A session to replace `stale`, which the API refused or which expired."""
        ...


def refused_by_status(response: httpx.Response) -> bool:
    """The default test for a refused session, for use as a plain `httpx.Auth`: HTTP 401."""
    return response.status_code == 401


class Credentials(httpx.Auth, abc.ABC):
    """Signs requests with the current session, and renews it once per refusal."""

    #: A refusal may be told only by the body (an error envelope sent with HTTP 200).
    requires_response_body = True

    def __init__(self, refused: Callable[[httpx.Response], bool] = refused_by_status) -> None:
        self._lock = threading.RLock()
        self._generation = 0
        self._refused = refused

    @abc.abstractmethod
    def sign(self, request: httpx.Request) -> httpx.Request:
        """`request` with the current credential applied (a new request when the body or URL changes)."""

    @abc.abstractmethod
    def _renew(self) -> None:
        """Replace the current session (called under the lock)."""

    def endpoint(self) -> str:
        """The base URL that paths (URLs starting with "/") are sent to."""
        raise NotImplementedError(f"{type(self).__name__} does not name an endpoint")

    def prepare(self) -> None:
        """Obtain a session now rather than on the first call (`duckfed login`)."""

    def apply(self, request: httpx.Request) -> httpx.Request:
        with self._lock:
            signed = self.sign(request)  # may renew an expiring session first, which moves the generation on
            generation = self._generation
        signed.extensions = {**signed.extensions, _GENERATION: generation}
        return signed

    def renew(self, refused: httpx.Request) -> None:
        """Get a new session, unless another caller already did since `refused` was signed."""
        with self._lock:
            if refused.extensions.get(_GENERATION, self._generation) != self._generation:
                return
            self._renew()
            self._generation += 1

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """The same rules for a plain httpx client: sign, and on a refusal renew and resend once."""
        signed = self.apply(request)
        response = yield signed
        if self._refused(response):
            self.renew(signed)
            yield self.apply(request)


class SessionAuth(Credentials):
    """Sessions from a `Login`, obtained lazily, renewed `skew` seconds before expiry and after a refusal."""

    def __init__(
        self, login: Login, *, skew: float = 60.0, refused: Callable[[httpx.Response], bool] = refused_by_status
    ) -> None:
        super().__init__(refused)
        self._login = login
        self._skew = skew
        self._session: Session | None = None

    def session(self) -> Session:
        with self._lock:
            if self._session is None:
                self._session = self._login.login()
            elif self._session.expired_soon(self._skew):
                self._session = self._login.renew(self._session)
                self._generation += 1
            return self._session

    def prepare(self) -> None:
        self.session()

    def adopt(self, login: Login) -> None:
        """Take sessions from `login` from now on: a worker adopts a session minted elsewhere, whose login never
        signs in (`federation.handoff.HandedLogin`). Such a session can't be renewed early, so it is used until it
        expires."""
        with self._lock:
            self._login = login
            self._skew = 0.0
            self._session = None
            self._generation += 1

    def _renew(self) -> None:
        stale = self._session
        self._session = self._login.renew(stale) if stale is not None else self._login.login()

    def endpoint(self) -> str:
        found = self.session().endpoint
        if found is None:
            raise NotImplementedError("this login names no endpoint; give full URLs")
        return found

    def sign(self, request: httpx.Request) -> httpx.Request:
        request.headers["Authorization"] = f"Bearer {self.session().token}"
        return request


def with_body(request: httpx.Request, content: bytes) -> httpx.Request:
    """A copy of `request` with another body (its Content-Length follows)."""
    headers = {k: v for k, v in request.headers.items() if k.lower() not in ("content-length", "transfer-encoding")}
    return httpx.Request(request.method, request.url, headers=headers, content=content, extensions=request.extensions)

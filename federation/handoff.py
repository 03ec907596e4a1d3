"""Handing a short-lived access credential from one process to others that must never sign in themselves.

A distributed reader (the Spark data source, `federation.spark`) signs in once, on the driver, and sends its
workers an `AccessGrant`: the source's scheme, its connection properties without a single secret, and the
current access token with its expiry. A worker builds its connector from the grant (`Connector.from_access`),
whose login is a `HandedLogin`: it signs every request with that token and never calls a token endpoint, so a
single-use rotating refresh token stays in the driver's token store and is spent by nobody else. When the token
expires, or the API refuses it, the worker fails with an `AuthenticationError` that says so.

The grant also carries each worker's share of the vendor's rate limit (`share`), so that the workers together
never send more calls than the account allows.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from federation.auth import Session
from federation.errors import AuthenticationError
from federation.ratelimit import RateLimit, Window

#: Properties a worker never gets: how to sign in or where tokens are stored (its session is handed to it).
SIGN_IN_PROPERTIES = frozenset({"InitiateOAuth", "OAuthSettingsLocation", "CallbackURL", "RateLimit"})


@dataclass(frozen=True)
class AccessGrant:
    """What a worker needs to call a source as the driver's user: no secret but the short-lived access token."""

    scheme: str
    #: Connection properties by name, typed as `Settings.by_property` gives them, without secrets or sign-in.
    properties: Mapping[str, object]
    session: Session = field(repr=False)
    #: The worker's share of the account's rate limit, as a `RateLimit` property value (None: the vendor's own).
    rate_limit: str | None = None

    @property
    def expires_at(self) -> float | None:
        return self.session.expires_at


class HandedLogin:
    """A `federation.auth.Login` that only has the session it was handed: it never signs in or refreshes."""

    def __init__(self, session: Session, source: str) -> None:
        self._session = session
        self._source = source

    def login(self) -> Session:
        return self._session

    def renew(self, stale: Session) -> Session:
        """Never a new session: the error says why the one handed over no longer works."""
        expires_at = stale.expires_at
        if expires_at is not None and time.time() >= expires_at:
            when = datetime.datetime.fromtimestamp(expires_at, datetime.UTC).strftime("%H:%M:%S UTC")
            raise AuthenticationError(
                f"the access token handed over by the driver expired at {when}; a worker never refreshes or "
                "rotates tokens (a refresh token must stay with the driver), so run the job again: the driver "
                "mints a fresh one",
                source=self._source,
            )
        raise AuthenticationError(
            "the API refused the access token handed over by the driver (revoked, or expired early); a worker "
            "never signs in or refreshes tokens, so run the job again: the driver mints a fresh one",
            source=self._source,
        )


def share(limit: RateLimit, parts: int) -> RateLimit:
    """Each of `parts` workers' share of `limit`, so that together they stay within it: a window of `calls` gives
    each `calls // parts` (`parts` must not exceed the smallest window's calls: see `max_parts`)."""
    windows = tuple(Window(w.calls // parts, w.seconds, w.aligned, w.name) for w in limit.windows)
    daily = None if limit.daily is None else max(limit.daily // parts, 1)
    return RateLimit(windows, daily)


def max_parts(limit: RateLimit) -> int | None:
    """How many workers may call at once under `limit`: one call each in its smallest window (None: no window)."""
    return min((w.calls for w in limit.windows), default=None)


def rate_limit_text(limit: RateLimit) -> str:
    """`limit` as a `RateLimit` property value (`federation.ratelimit.parse_rate_limit` reads it back)."""
    parts = [f"{w.calls}/{w.seconds:g}s{' aligned' if w.aligned else ''}" for w in limit.windows]
    if limit.daily is not None:
        parts.append(f"{limit.daily}/day")
    return ", ".join(parts)

"""One HTTP client per connection: keep-alive, retry with backoff, `Retry-After`, and re-authentication.

Connectors give the client two things: an `Authenticator` (headers for a request, and a way to get a new
session) and a `classify` function that turns an error response into the matching `federation.errors` type.
The client decides what may be retried, by type: a `TransientError` is retried with exponential backoff (or
after the server's `Retry-After`), a `SessionExpired` re-authenticates first. A non-idempotent request (POST)
is re-sent only when the server provably did not act on it — the connection was never made, the server said
429 or the session was refused — because re-sending a create whose response was lost would duplicate it.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from federation.errors import ConnectionFailed, Error, RateLimited, SessionExpired, TransientError

log = logging.getLogger("duckfed.http")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"})


class Authenticator(Protocol):
    """Supplies auth headers, authenticating lazily, and renews a session the API refused."""

    def headers(self) -> Mapping[str, str]: ...

    def renew(self) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay * 2)
        # Full jitter keeps many clients that failed together from retrying together.
        return random.uniform(0.5, 1.0) * min(self.max_delay, self.base_delay * 2.0**attempt)


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The `Retry-After` header as seconds (it may be a number or an HTTP date), or None."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, parsed.timestamp() - time.time())


class Unsent(TransientError):
    """The request provably never reached the server, so even a create may be re-sent."""


Classifier = Callable[[httpx.Response], Error]


class HttpClient:
    """An httpx client with the retry, backoff and re-authentication rules above."""

    def __init__(
        self,
        *,
        source: str,
        classify: Classifier,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        auth: Authenticator | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.source = source
        self.classify = classify
        self.retry = retry or RetryPolicy()
        self.auth = auth
        self._client = httpx.Client(
            timeout=timeout,
            headers={"User-Agent": "duckfed", **(headers or {})},
            limits=httpx.Limits(max_keepalive_connections=8, max_connections=16),
        )

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        idempotent: bool | None = None,
        authenticated: bool = True,
        classify: Classifier | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send the request, retrying as the module docstring says; raise the classified error on failure.

        `classify` overrides the client's error classification for this request (a login speaks another format).
        """
        method = method.upper()
        may_repeat = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        headers = dict(kwargs.pop("headers", None) or {})
        attempt = 0
        while True:
            try:
                return self._send(method, url, operation, authenticated, classify or self.classify, headers, kwargs)
            except TransientError as error:
                attempt += 1
                # A refused session, a rate limit and a failed connect all mean the server did nothing.
                repeatable = may_repeat or isinstance(error, Unsent | SessionExpired | RateLimited)
                if not repeatable or attempt >= self.retry.attempts:
                    if isinstance(error, Unsent):
                        raise ConnectionFailed(error.message, source=error.source, operation=error.operation) from None
                    raise
                if isinstance(error, SessionExpired):
                    if self.auth is None or not authenticated:
                        raise
                    self.auth.renew()
                    continue
                pause = self.retry.delay(attempt - 1, error.retry_after)
                log.info("%s %s failed (%s); retry %d in %.2fs", self.source, operation, error.message, attempt, pause)
                time.sleep(pause)

    def _send(
        self,
        method: str,
        url: str,
        operation: str,
        authenticated: bool,
        classify: Classifier,
        headers: Mapping[str, str],
        kwargs: dict[str, Any],
    ) -> httpx.Response:
        if authenticated and self.auth is not None:
            headers = {**headers, **self.auth.headers()}
        try:
            response = self._client.request(method, url, headers=headers, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            message = f"can't reach {_host(url)}: {_reason(error)}"
            raise Unsent(message, source=self.source, operation=operation) from None
        except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadTimeout) as error:
            raise TransientError(
                f"the connection to {_host(url)} failed mid-request: {_reason(error)}",
                source=self.source,
                operation=operation,
            ) from None
        if response.is_success or response.is_redirect:
            return response
        failure = classify(response)
        if failure.source is None:
            failure.source = self.source
        if failure.operation is None:
            failure.operation = operation
        failure.args = (failure._render(),)
        raise failure


def _host(url: str) -> str:
    return httpx.URL(url).host or url


def _reason(error: Exception) -> str:
    return str(error) or type(error).__name__

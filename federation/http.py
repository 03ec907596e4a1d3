"""One HTTP client per connection: retry, re-authentication, rate limiting and cancellation in one loop.

Every call names an `Operation`, which declares whether it is safe to send twice (idempotency is a property of
the operation, not of the HTTP method: every Intacct call is a POST, yet its reads can be repeated and its
creates can't). For each attempt the client

1. waits for the account's process-wide rate limiter (`federation.ratelimit`) — and for nothing else;
2. signs the request with the connector's `Credentials` (which may rewrite body and endpoint);
3. sends it, then hands every response, HTTP 200 included, to the connector's `ResponseCheck`, which turns the
   API's own error envelope into the typed error tree (`federation.errors`);
4. decides by type: `SessionExpired` → renew the session and resend, once; `RateLimited` → the API did nothing,
   so wait its `Retry-After` (shared with every caller of the account) and resend; another `TransientError` →
   back off and resend only if the operation is idempotent or the request provably never reached the server;
   anything else is raised with the API's message.

Waits wake early when the connection is interrupted (`federation.cancel`). A read waiting on the network is
abandoned when interrupted; a write is always let finish, so an interrupt never leaves a call half-sent.
URLs that start with "/" are sent to the endpoint the session names (a login may move the endpoint).
"""

from __future__ import annotations

import concurrent.futures
import email.utils
import functools
import logging
import random
import re
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from federation.auth import Credentials
from federation.cancel import CancelToken, Statement, current_statement
from federation.errors import (
    CallBudgetExceeded,
    Cancelled,
    ConnectionFailed,
    DatabaseError,
    Error,
    RateLimited,
    SessionExpired,
    TransientError,
)
from federation.ratelimit import AccountLimiter, Observation

log = logging.getLogger("duckfed.http")


@dataclass(frozen=True)
class Operation:
    """What a call does: its name (for errors and logs), whether sending it twice is harmless, and whether it
    carries the session (a login call does not)."""

    name: str
    idempotent: bool
    authenticated: bool = True
    #: Whether the call counts against the API's rate limit (token endpoints usually have limits of their own).
    metered: bool = True


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


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context (httpx's default: certifi's roots) for every client in the process: building one
    loads the roots, about 50 ms, which each connection to each source paid again. A context is safe to share
    between connections and threads."""
    return httpx.create_ssl_context()


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


def transient_by_status(response: httpx.Response, message: str, api_code: str | None = None) -> Error | None:
    """The error every HTTP API means by 401 (the session is gone), 429 (rate limited: wait `Retry-After`) and
    5xx (worth retrying), carrying the API's own message and code; None for any other status."""
    status = response.status_code
    if status == 401:
        return SessionExpired(message, api_code=api_code)
    if status == 429:
        return RateLimited(message, api_code=api_code, retry_after=retry_after_seconds(response))
    if status >= 500:
        return TransientError(message, api_code=api_code, retry_after=retry_after_seconds(response))
    return None


#: Reads an error response's body: (the API's error code, its message).
ErrorReader = Callable[[httpx.Response], tuple[str | None, str]]


def error_check(read: ErrorReader, classify: Callable[[httpx.Response, str | None, str], Error]) -> ResponseCheck:
    """The check of an API that reports failures by HTTP status, with a body `read` turns into (code, message):
    a success is None; 401, 429 and 5xx mean what they mean everywhere (`transient_by_status`); `classify` names
    the rest by the API's own codes."""

    def check(response: httpx.Response) -> Error | None:
        if response.is_success or response.is_redirect:
            return None
        code, message = read(response)
        return transient_by_status(response, message, code) or classify(response, code, message)

    return check


def status_check(response: httpx.Response) -> Error | None:
    """The generic check: any 2xx or 3xx is fine; otherwise a type by status, with the body's text."""
    if response.is_success or response.is_redirect:
        return None
    message = response.text.strip()[:500] or f"HTTP {response.status_code}"
    return transient_by_status(response, message) or DatabaseError(message)


class Unsent(TransientError):
    """The request provably never reached the server, so even a create may be re-sent."""


#: Turns a response (any status) into the API's error, or None when it succeeded.
ResponseCheck = Callable[[httpx.Response], Error | None]
#: Reads what a response says about the account's quotas (vendor headers such as X-RateLimit-*).
QuotaReader = Callable[[httpx.Response], tuple[Observation, ...]]

_SECRET_PARAMS = re.compile(
    r"((?:code|access_token|refresh_token|client_secret|password|sessionid|assertion|id_token)=)[^&\s\"']+",
    re.IGNORECASE,
)


def redact_url(text: str) -> str:
    """`text` with the values of credential-bearing query parameters replaced (`code=***`)."""
    return _SECRET_PARAMS.sub(r"\1***", text)


class _RedactCredentials(logging.Filter):
    """httpx logs every request URL at INFO, and httpcore response headers at DEBUG: an OAuth callback URL and
    the redirect to it carry the authorization code."""

    def filter(self, record: logging.LogRecord) -> bool:
        # The whole message: httpcore's debug lines carry headers (a redirect's Location) as nested bytes.
        record.msg = redact_url(record.getMessage())
        record.args = None
        return True


# A logger's filters don't apply to its children's records: name each logger httpx and httpcore log to.
for _name in ("httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy", "httpcore.socks"):
    logging.getLogger(_name).addFilter(_RedactCredentials())


class HttpClient:
    """An httpx client with the loop the module docstring describes."""

    def __init__(
        self,
        *,
        source: str,
        check: ResponseCheck = status_check,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        auth: Credentials | None = None,
        headers: Mapping[str, str] | None = None,
        limiter: AccountLimiter | None = None,
        quota_reader: QuotaReader | None = None,
        max_calls: int = 0,
    ) -> None:
        self.source = source
        self.check = check
        self.retry = retry or RetryPolicy()
        self.auth = auth
        self.limiter = limiter
        self.quota_reader = quota_reader
        #: The statement of calls made outside any cursor's (`federation.cancel`); closing the client stops it.
        self.own = Statement()
        #: Requests sent so far (every attempt, logins included: each is an API call).
        self.calls = 0
        #: The calls one statement may send (the `MaxCalls` property; 0: no cap).
        self.max_calls = max_calls
        self._calls_lock = threading.Lock()
        self._client = httpx.Client(
            verify=tls_context(),
            timeout=timeout,
            headers={"User-Agent": "duckfed", **(headers or {})},
            limits=httpx.Limits(max_keepalive_connections=8, max_connections=16),
        )
        # Reads wait on a worker so that an interrupt can abandon them; writes are waited for in place.
        self._waiter = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix=f"duckfed-{source}")

    @property
    def statement(self) -> Statement:
        """The statement this thread's calls belong to: a cursor's running one, else the client's own."""
        return current_statement() or self.own

    @property
    def token(self) -> CancelToken:
        """What stops this thread's calls."""
        return self.statement.token

    def check_budget(self, calls: int, what: str) -> None:
        """Raise `CallBudgetExceeded` if `calls` more calls would pass `MaxCalls` or the daily quota left."""
        spent = self.statement.spent(self)
        if self.max_calls and spent + calls > self.max_calls:
            raise CallBudgetExceeded(
                f"{what} takes {calls:,} API call{'s' if calls != 1 else ''} and the statement has spent {spent:,}, "
                f"more than MaxCalls={self.max_calls:,}: nothing was sent; raise MaxCalls or write fewer records",
                source=self.source,
            )
        left = self.limiter.daily_remaining() if self.limiter is not None else None
        if left is not None and calls > left:
            raise CallBudgetExceeded(
                f"{what} takes {calls:,} API calls but only {left:,} are left of the daily quota: nothing was sent",
                source=self.source,
            )

    def close(self) -> None:
        self.own.token.cancel("the connection was closed")
        self._waiter.shutdown(wait=False, cancel_futures=True)
        self._client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        operation: Operation,
        check: ResponseCheck | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send the request as the module docstring says; return the response or raise the typed error.

        `check` overrides the client's response check for this call (a login speaks another format)."""
        check = check or self.check
        statement = self.statement
        token = statement.token
        attempt = 0
        renewed = False
        while True:
            token.check()
            ticket = None
            if self.limiter is not None and operation.metered:
                ticket = self.limiter.acquire(token, what=operation.name)
            request = self._client.build_request(method, self._target(url), **kwargs)
            if operation.authenticated and self.auth is not None:
                request = self.auth.apply(request)
            try:
                try:
                    self._charge(statement, operation)
                    response = self._send(request, operation, token)
                finally:
                    if ticket is not None and self.limiter is not None:
                        self.limiter.complete(ticket)
                if self.limiter is not None and self.quota_reader is not None:
                    self.limiter.observe(self.quota_reader(response))
                failure = check(response)
                if failure is None:
                    return response
                self._annotate(failure, operation)
                raise failure
            except SessionExpired:
                if renewed or not operation.authenticated or self.auth is None:
                    raise
                self.auth.renew(request)
                renewed = True
            except TransientError as error:
                attempt += 1
                # A rate limit and a failed connect both mean the server did nothing with the request.
                repeatable = operation.idempotent or isinstance(error, Unsent | RateLimited)
                if not repeatable or attempt >= self.retry.attempts:
                    if isinstance(error, Unsent):
                        raise ConnectionFailed(error.message, source=error.source, operation=error.operation) from None
                    raise
                pause = self.retry.delay(attempt - 1, error.retry_after)
                if isinstance(error, RateLimited) and self.limiter is not None:
                    self.limiter.pause(pause, f"the API answered 429 ({error.message})")
                    log.info("%s %s was rate limited; retry %d", self.source, operation.name, attempt)
                    continue
                log.info(
                    "%s %s failed (%s); retry %d in %.2fs", self.source, operation.name, error.message, attempt, pause
                )
                token.wait(pause)

    def _target(self, url: str) -> str:
        if url.startswith("/") and self.auth is not None:
            return self.auth.endpoint().rstrip("/") + url
        return url

    def _annotate(self, failure: Error, operation: Operation) -> None:
        if failure.source is None:
            failure.source = self.source
        if failure.operation is None:
            failure.operation = operation.name
        failure.args = (failure._render(),)

    def _send(self, request: httpx.Request, operation: Operation, token: CancelToken) -> httpx.Response:
        if not operation.idempotent:
            return self._transport(request, operation)
        pending = self._waiter.submit(self._transport, request, operation)
        while True:
            try:
                return pending.result(timeout=0.1)
            except concurrent.futures.TimeoutError:
                if token.cancelled:
                    pending.cancel()
                    raise Cancelled(token.reason, source=self.source, operation=operation.name) from None

    def _charge(self, statement: Statement, operation: Operation) -> None:
        """Count the call about to be sent, in all and in its statement, or refuse it past `MaxCalls`."""
        if not statement.charge(self, self.max_calls):
            raise CallBudgetExceeded(
                f"the statement reached MaxCalls={self.max_calls:,} API calls before {operation.name}: it was "
                "stopped, returning nothing; raise MaxCalls or narrow the query",
                source=self.source,
                operation=operation.name,
            )
        with self._calls_lock:  # pages are fetched ahead on worker threads
            self.calls += 1

    def _transport(self, request: httpx.Request, operation: Operation) -> httpx.Response:
        try:
            return self._client.send(request)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            message = f"can't reach {_host(request.url)}: {_reason(error)}"
            raise Unsent(message, source=self.source, operation=operation.name) from None
        except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadTimeout) as error:
            raise TransientError(
                f"the connection to {_host(request.url)} failed mid-request: {_reason(error)}",
                source=self.source,
                operation=operation.name,
            ) from None


def _host(url: httpx.URL) -> str:
    return url.host or str(url)


def _reason(error: Exception) -> str:
    return redact_url(str(error)) or type(error).__name__

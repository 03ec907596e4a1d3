"""Exact Online's HTTP side: its error envelope as typed errors, its operations, its quotas and their headers.

Errors are `{"error":{"code":"","message":{"lang":"","value":"…"}}}`; clients show `error.message.value`
(picqer `parseExceptionForErrorMessages`), and so does duckfed, verbatim. Quotas: 60 calls a clock minute and
5,000 a day per app and division ("API limits"); every response on a division URL reports them in
`X-RateLimit-Minutely-*` and `X-RateLimit-*` headers, resets in epoch milliseconds (ossobv `http.py`).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import httpx
import orjson

from federation.errors import (
    AuthenticationError,
    DatabaseError,
    DataError,
    Error,
    ProgrammingError,
    RateLimited,
    StaleMetadata,
)
from federation.http import Operation, retry_after_seconds, transient_by_status
from federation.ratelimit import Observation, RateLimit, Window

log = logging.getLogger("duckfed.exactonline")

#: The published limits per app and division; the minute is a clock minute (a 429 lasts until it ends).
LIMIT = RateLimit((Window(60, 60.0, aligned=True, name="minutely"),), daily=5000)

CURRENT_DIVISION = Operation("current division", idempotent=True, metered=False)
LIST = Operation("list", idempotent=True)
#: Exact takes no idempotency key: a create may not be re-sent once it may have reached the API.
CREATE = Operation("create", idempotent=False)
UPDATE = Operation("update", idempotent=True)
DELETE = Operation("delete", idempotent=True)


def message_of(response: httpx.Response) -> str:
    """`error.message.value` of an error body, or the body's text."""
    try:
        body: Any = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.text.strip()[:300] or f"HTTP {response.status_code}"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = error.get("message")
        if isinstance(message, dict):
            return str(message.get("value", ""))
        return str(message or error.get("code") or "")
    return f"HTTP {response.status_code}"


def check(response: httpx.Response) -> Error | None:
    if response.is_success:
        return None
    message, status = message_of(response), response.status_code
    if status == 429:
        return RateLimited(message, retry_after=_retry_after(response))
    common = transient_by_status(response, message)
    if common is not None:
        return common
    if status == 403:
        return AuthenticationError(message)
    if status == 400 and message.startswith("No property"):
        return StaleMetadata(message)
    if status == 400 and message.startswith(("Error processing request stream", "Mandatory")):
        return DataError(message)
    if status in (400, 404, 405):
        return ProgrammingError(message, api_code=str(status))
    return DatabaseError(message)


def _retry_after(response: httpx.Response) -> float | None:
    """`Retry-After`, else the end of the minute the minutely headers name."""
    given = retry_after_seconds(response)
    if given is not None:
        return given
    reset = response.headers.get("x-ratelimit-minutely-reset")
    return max(0.0, int(reset) / 1000 - time.time()) if reset and reset.isdigit() else None


class QuotaWatch:
    """Reads the `X-RateLimit-*` headers into limiter observations (a `federation.http.QuotaReader`), and keeps
    the latest daily figures for the quota check before long scans and for `duckfed -v`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: (calls remaining today, when the day's quota resets), from the latest response that said.
        self.daily: tuple[int, float] | None = None
        self.minutely: tuple[int, float] | None = None

    def __call__(self, response: httpx.Response) -> tuple[Observation, ...]:
        headers = response.headers
        seen: list[Observation] = []
        for window, prefix in (("minutely", "x-ratelimit-minutely-"), ("daily", "x-ratelimit-")):
            remaining, reset = headers.get(prefix + "remaining"), headers.get(prefix + "reset")
            if remaining is None or not remaining.isdigit():
                continue
            resets_at = int(reset) / 1000 if reset and reset.isdigit() else None
            seen.append(Observation(window, int(remaining), resets_at))
            with self._lock:
                setattr(self, window, (int(remaining), resets_at or 0.0))
        return tuple(seen)

    def describe(self) -> str:
        with self._lock:
            parts = []
            if self.minutely is not None:
                parts.append(f"{self.minutely[0]} calls left this minute")
            if self.daily is not None:
                parts.append(f"{self.daily[0]} left today")
        return ", ".join(parts) or "no quota reported"

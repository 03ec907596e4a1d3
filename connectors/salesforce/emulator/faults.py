"""Injected faults: the next N matching requests fail with a status, or lose their connection.

A fault matches a request by kind ("query", "create", …; None matches all). `after_processing` lets the
request take effect first and fails only its response, which is how a client learns that retrying a lost
create must not create twice. Bodies default to what the platform sends for that status.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

#: The platform's error body per status, for REST (JSON array) requests.
_REST_BODIES: dict[int, tuple[str, str]] = {
    400: ("BAD_REQUEST", "Bad request"),
    401: ("INVALID_SESSION_ID", "Session expired or invalid"),
    403: ("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    404: ("NOT_FOUND", "The requested resource does not exist"),
    429: ("REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."),
    502: ("SERVER_UNAVAILABLE", "Bad gateway"),
    503: ("SERVER_UNAVAILABLE", "Server temporarily unavailable"),
}
_UNKNOWN = (
    "UNKNOWN_EXCEPTION",
    "An unexpected error occurred. Please include this ErrorId if you contact support: 1957340157-1337 (-1234567890)",
)


def rest_error(status: int) -> tuple[str, str]:
    """(errorCode, message) the platform answers a REST request with for this status."""
    return _REST_BODIES.get(status, _UNKNOWN)


@dataclass
class Fault:
    """One injected fault and how many more requests it applies to."""

    status: int
    remaining: int
    kinds: frozenset[str] | None
    body: Any
    retry_after: int | float | None
    drop: bool
    after_processing: bool
    #: Matching requests still to pass untouched before the fault applies (to fail a call in mid-batch).
    skip: int = 0


class Faults:
    """The queue of injected faults, consumed in the order they were injected."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Fault] = []

    def inject(
        self,
        status: int,
        times: int,
        kinds: Collection[str] | None,
        body: Any,
        retry_after: int | float | None,
        drop: bool,
        after_processing: bool,
        skip: int = 0,
    ) -> None:
        """Queue a fault for `times` requests of `kinds`, after letting `skip` of them through."""
        if times < 1 or skip < 0:
            raise ValueError("times must be >= 1 and skip >= 0")
        chosen = frozenset(kinds) if kinds is not None else None
        with self._lock:
            self._queue.append(Fault(status, times, chosen, body, retry_after, drop, after_processing, skip))

    def take(self, kind: str) -> Fault | None:
        """The fault that applies to this request, if any (using up one of its times)."""
        with self._lock:
            for fault in self._queue:
                if fault.kinds is None or kind in fault.kinds:
                    if fault.skip:
                        fault.skip -= 1
                        return None
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._queue.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        """Forget every pending fault."""
        with self._lock:
            self._queue.clear()

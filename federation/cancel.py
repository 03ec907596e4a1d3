"""Cancellation: Ctrl-C, a Jupyter interrupt or a statement timeout wakes a call that is waiting.

A scan runs on DuckDB's threads, where a KeyboardInterrupt never arrives, and may be waiting on an HTTP response
or on the rate limiter (Exact Online can make it wait most of a minute). Each connector's HTTP client holds a
`CancelToken`; the connection sets it when the user interrupts a statement, every wait in the kit is a
`token.wait(seconds)` that returns early, and the next statement clears it again. Writes are never abandoned in
mid-call (the API might apply them anyway): a cancelled write stops before its next call.
"""

from __future__ import annotations

import threading

from federation.errors import Cancelled


class CancelToken:
    """A flag that wakes waiters when set."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = "the statement was interrupted"

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self, reason: str = "the statement was interrupted") -> None:
        self.reason = reason
        self._event.set()

    def reset(self) -> None:
        self._event.clear()

    def check(self) -> None:
        """Raise `Cancelled` if the token is set."""
        if self._event.is_set():
            raise Cancelled(self.reason)

    def wait(self, seconds: float) -> None:
        """Sleep `seconds`, or raise `Cancelled` as soon as the token is set."""
        if self._event.wait(max(0.0, seconds)):
            raise Cancelled(self.reason)

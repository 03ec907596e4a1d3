"""Injected faults: the next N matching requests fail with a status, or lose their connection.

A fault matches a request by kind ("query", "token", …; None matches every kind). `skip` lets that many
matching requests through first (to fail a later page or the middle of a batch); `after_processing` lets the
request take effect and fails only its response, which is how a client learns that retrying a lost create must
not create twice. The body defaults to what the vendor sends for the status (`Emulator.fault_reply`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass

from .server import Json

#: A custom fault body: raw bytes, text, or JSON-ready data.
FaultBody = bytes | Json


@dataclass(frozen=True)
class Fault:
    """One injected fault: what a matching request gets instead of its answer."""

    status: int = 500
    #: How many matching requests fail.
    times: int = 1
    #: The kinds it applies to; None: every kind.
    kinds: frozenset[str] | None = None
    #: Replaces the vendor's error body for the status.
    body: FaultBody = None
    #: Seconds sent in a ``Retry-After`` header.
    retry_after: float | None = None
    #: Close the connection without a response.
    drop: bool = False
    #: Carry the request out first, then fail (or drop) only its response.
    after_processing: bool = False
    #: Matching requests to let through untouched before the fault applies.
    skip: int = 0

    def __post_init__(self) -> None:
        if self.times < 1 or self.skip < 0:
            raise ValueError("times must be >= 1 and skip >= 0")


class _Pending:
    __slots__ = ("fault", "remaining", "skip")

    def __init__(self, fault: Fault) -> None:
        self.fault = fault
        self.remaining = fault.times
        self.skip = fault.skip


class Faults:
    """The queue of injected faults, consumed in the order they were injected."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []

    def add(self, fault: Fault) -> None:
        """Queue `fault` behind those already waiting."""
        with self._lock:
            self._queue.append(_Pending(fault))

    def take(self, matches: Callable[[Collection[str]], bool]) -> Fault | None:
        """The fault that applies to a request, if any, using up one of its times.

        `matches` says whether a request is of one of the given kinds (a kind or a group of kinds).
        """
        with self._lock:
            for pending in self._queue:
                if pending.fault.kinds is None or matches(pending.fault.kinds):
                    if pending.skip:
                        pending.skip -= 1
                        return None
                    pending.remaining -= 1
                    if pending.remaining == 0:
                        self._queue.remove(pending)
                    return pending.fault
        return None

    def clear(self) -> None:
        """Forget every pending fault."""
        with self._lock:
            self._queue.clear()

"""Server-side result cursors: a query runs once, and its pages are served from the result it produced.

Paged APIs hand the client a locator for the rest of a result (Salesforce's query locator, Intacct's
resultId). A cursor holds the rows and is found again by its locator until it expires: `ttl` seconds after
the query ran, on the emulator's clock, or earlier when more than `capacity` cursors are open (the oldest is
released first, as vendors release a user's oldest cursors). Fetching the same page twice gives the same rows,
so a client retrying a page it lost is served exactly what it missed. Locators are the vendor's: a factory
makes one from a serial number, and `canonical` maps what a client sends back to that form.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from .clock import Clock

Row = TypeVar("Row")


@dataclass(frozen=True)
class Cursor(Generic[Row]):
    """The rows of one query execution, ready to be paged."""

    locator: str
    rows: Sequence[Row]
    #: What the vendor reports as the result's size (it may count rows a page never carries).
    total_size: int
    #: Rows per page the query asked for; later pages default to it.
    batch_size: int
    created: float


def _same(locator: str) -> str | None:
    return locator


class Cursors(Generic[Row]):
    """Open cursors, by locator; thread-safe."""

    def __init__(
        self,
        clock: Clock,
        *,
        ttl: float,
        capacity: int,
        new_locator: Callable[[int], str] = str,
        canonical: Callable[[str], str | None] = _same,
    ) -> None:
        self._clock = clock
        self._ttl = ttl
        self._capacity = capacity
        self._new_locator = new_locator
        self._canonical = canonical
        self._lock = threading.Lock()
        self._open: OrderedDict[str, Cursor[Row]] = OrderedDict()
        self._serial = 0

    def open(self, rows: Sequence[Row], total_size: int, batch_size: int) -> Cursor[Row]:
        """Keep a query's result for paging and return its cursor."""
        with self._lock:
            self._serial += 1
            locator = self._new_locator(self._serial)
            cursor = Cursor(locator, rows, total_size, batch_size, self._clock.now())
            self._open[locator] = cursor
            while len(self._open) > self._capacity:
                self._open.popitem(last=False)
        return cursor

    def get(self, locator: str) -> Cursor[Row] | None:
        """The live cursor named `locator`, or None when unknown, released or expired."""
        canonical = self._canonical(locator)
        with self._lock:
            cursor = self._open.get(canonical) if canonical else None
            if cursor is not None and self._clock.now() - cursor.created > self._ttl:
                del self._open[cursor.locator]
                return None
        return cursor

"""Server-side query cursors: a query runs once, and its pages are served from the result it produced.

A page is addressed as ``<locator>-<offset>`` in ``nextRecordsUrl``; the same address can be fetched again
(a client retrying a page it lost gets the same rows). A locator lasts `ttl` seconds after the query ran
(two days on today's platform; the older 15-minutes-of-inactivity rule is gone from its docs), and at most
`capacity` cursors are kept, the oldest released first, as the platform releases a user's oldest cursors.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import ids
from .model import Record

#: Query locators of the current platform are 18-character Ids with this prefix.
LOCATOR_PREFIX = "0r8"


@dataclass(frozen=True)
class Cursor:
    """The rows of one query execution, ready to be paged."""

    locator: str
    rows: Sequence[Record]
    total_size: int
    batch_size: int
    created: float


class Cursors:
    """Open cursors, by locator."""

    def __init__(self, ttl: float, capacity: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._capacity = capacity
        self._clock = clock
        self._lock = threading.Lock()
        self._open: OrderedDict[str, Cursor] = OrderedDict()
        self._serial = 0

    def open(self, rows: Sequence[Record], total_size: int, batch_size: int) -> Cursor:
        """Keep a query's result for paging and return its cursor."""
        with self._lock:
            self._serial += 1
            cursor = Cursor(ids.make_id(LOCATOR_PREFIX, self._serial), rows, total_size, batch_size, self._clock())
            self._open[cursor.locator] = cursor
            while len(self._open) > self._capacity:
                self._open.popitem(last=False)
        return cursor

    def get(self, locator: str) -> Cursor | None:
        """The live cursor named `locator` (15 or 18 characters), or None when unknown, released or expired."""
        canonical = ids.normalize(locator)
        with self._lock:
            cursor = self._open.get(canonical) if canonical else None
            if cursor is not None and self._clock() - cursor.created > self._ttl:
                del self._open[cursor.locator]
                return None
        return cursor

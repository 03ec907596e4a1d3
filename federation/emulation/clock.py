"""`Clock`: one emulator's time, real time plus an offset that tests move forward instead of waiting.

Everything in an emulator that expires or counts per period reads the same clock: access tokens and
authorization codes, result cursors, quota windows. `advance(600)` makes ten minutes pass for all of them at
once, so a test expires a token or crosses a rate-limit window without sleeping. A frozen clock moves only by
`advance`, for tests that must not depend on how long their own steps take.
"""

from __future__ import annotations

import threading
import time


class Clock:
    """Monotonic seconds (`now`) and epoch seconds (`wall`), both shifted by what `advance` added."""

    def __init__(self, *, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        #: When frozen, real time stops at construction: (monotonic, epoch) at that moment.
        self._frozen_at = (time.monotonic(), time.time()) if frozen else None

    def now(self) -> float:
        """Monotonic seconds plus the offset: for lifetimes and sliding windows."""
        base = self._frozen_at[0] if self._frozen_at else time.monotonic()
        return base + self._offset

    def wall(self) -> float:
        """Epoch seconds plus the offset: for windows aligned to the calendar and times sent to clients."""
        base = self._frozen_at[1] if self._frozen_at else time.time()
        return base + self._offset

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds` for everything that reads this clock."""
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        with self._lock:
            self._offset += seconds

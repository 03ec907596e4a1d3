"""Rate-limit quotas an emulator enforces, the way vendors count: sliding windows and clock-aligned windows.

Act-On allows 5 calls in any sliding second; Exact Online 60 calls a minute, counted per clock minute, and
5,000 a day. A `Quota` says which: a sliding window admits a call when fewer than `limit` calls were served in
the `period_seconds` before it; an aligned window counts the calls since the period's start on the calendar
(epoch multiples: minutes, UTC days). Calls are counted per key (Exact counts per app and division), and a call
over any quota is rejected without being counted against the others. The served timestamps stay, so tests can
check a client's rate limiter against what the server saw (`max_in_any_window`).
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .clock import Clock


@dataclass(frozen=True)
class Quota:
    """At most `limit` calls per `period_seconds`, in a sliding window or one aligned to the clock."""

    name: str
    limit: int
    period_seconds: float
    aligned: bool = False

    def __post_init__(self) -> None:
        if self.limit < 1 or self.period_seconds <= 0:
            raise ValueError("a quota needs a limit >= 1 and a positive period")


@dataclass(frozen=True)
class QuotaState:
    """Where one key stands against one quota: calls used in the current window and when it next frees up."""

    quota: Quota
    key: str
    used: int
    #: Epoch seconds (on the emulator's clock) when the window next frees a call: the end of an aligned window,
    #: the moment the oldest call leaves a sliding one (now, when the window is empty).
    reset_at: float

    @property
    def remaining(self) -> int:
        return max(self.quota.limit - self.used, 0)


@dataclass(frozen=True)
class Rejection:
    """A call refused by a quota, and how long the caller must wait."""

    state: QuotaState
    #: Whole seconds, as a ``Retry-After`` header carries them.
    retry_after: int


class Quotas:
    """The quotas of one emulator and the timestamps of the calls they admitted, per key; thread-safe."""

    def __init__(self, clock: Clock, quotas: Iterable[Quota] = ()) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._quotas: tuple[Quota, ...] = ()
        self._served: dict[str, list[float]] = {}
        self.configure(quotas)

    @property
    def quotas(self) -> tuple[Quota, ...]:
        return self._quotas

    def configure(self, quotas: Iterable[Quota]) -> None:
        """Enforce `quotas` from now on (none: unlimited), forgetting the calls counted so far."""
        chosen = tuple(quotas)
        if len({quota.name for quota in chosen}) != len(chosen):
            raise ValueError("quota names must be unique")
        with self._lock:
            self._quotas = chosen
            self._served.clear()

    def admit(self, key: str) -> Rejection | None:
        """Count a call for `key` if every quota allows it; otherwise the rejection of the first that does not."""
        with self._lock:
            if not self._quotas:
                return None
            served = self._served.setdefault(key, [])
            # Kept sorted even if the wall clock steps back, so windows stay bisectable.
            now = max(self._clock.wall(), served[-1]) if served else self._clock.wall()
            for quota in self._quotas:
                state = self._state(quota, key, served, now)
                if state.used >= quota.limit:
                    return Rejection(state, max(math.ceil(state.reset_at - now), 1))
            served.append(now)
        return None

    def states(self, key: str) -> Mapping[str, QuotaState]:
        """Every quota's state for `key` now, by quota name (for rate-limit headers)."""
        with self._lock:
            served = self._served.get(key, [])
            now = self._clock.wall()
            return {quota.name: self._state(quota, key, served, now) for quota in self._quotas}

    def served(self, key: str | None = None) -> tuple[float, ...]:
        """Epoch timestamps of the admitted calls of `key` (None: of every key), oldest first."""
        with self._lock:
            if key is not None:
                return tuple(self._served.get(key, ()))
            return tuple(sorted(stamp for stamps in self._served.values() for stamp in stamps))

    def max_in_any_window(self, name: str, key: str | None = None) -> int:
        """The most calls admitted for one key (`key`, or the busiest) in any sliding window of quota `name`."""
        period = self._quota(name).period_seconds
        with self._lock:
            keys = [key] if key is not None else list(self._served)
            return max((_densest(self._served.get(one, []), period) for one in keys), default=0)

    def _quota(self, name: str) -> Quota:
        for quota in self._quotas:
            if quota.name == name:
                return quota
        raise KeyError(f"no quota named {name!r}")

    @staticmethod
    def _state(quota: Quota, key: str, served: Sequence[float], now: float) -> QuotaState:
        if quota.aligned:
            start = math.floor(now / quota.period_seconds) * quota.period_seconds
            used = len(served) - bisect.bisect_left(served, start)
            return QuotaState(quota, key, used, start + quota.period_seconds)
        # The window is (now - period, now]: a call exactly one period ago no longer counts.
        first = bisect.bisect_right(served, now - quota.period_seconds)
        used = len(served) - first
        # The window frees a call when its oldest call leaves it.
        return QuotaState(quota, key, used, served[first] + quota.period_seconds if used else now)


def _densest(stamps: Sequence[float], period: float) -> int:
    """The most timestamps in any window (t - period, t]."""
    best = start = 0
    for end, stamp in enumerate(stamps):
        while stamps[start] <= stamp - period:
            start += 1
        best = max(best, end - start + 1)
    return best

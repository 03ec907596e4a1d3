"""One process-wide rate limiter per source account, so no call is sent that the API would refuse for its limit.

Vendors count calls per account: Act-On 5 in any sliding second, Exact Online 60 per clock minute and 5,000
per day per app and division, Salesforce a daily org quota. `limiter_for(key, limit)` hands every connection and
thread of the process the same `AccountLimiter` for one key (the connector chooses the key the way the vendor
counts), and every HTTP call first `acquire`s a slot from it.

- Sliding windows count a call from when it is sent until a full window after its response arrived: the server
  admitted it somewhere in between, so however long requests take to arrive, no window the server counts ever
  holds more than `calls` (a call still in flight counts as if admitted just now).
- Aligned windows (a clock minute) count calls since the window began; what the API reports in its headers
  (`Observation`: calls remaining, and when the window resets) tightens the count, since other processes and
  other programs spend the same quota.
- A `Retry-After` pauses every caller of the key until then.
- A daily quota is never waited for: a call that would exceed it fails at once with `QuotaExhausted`, which says
  when the quota resets.

Waiting is logged at INFO with the reason, and every wait wakes early when the statement is cancelled.
"""

from __future__ import annotations

import collections
import datetime
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from federation.cancel import CancelToken
from federation.errors import QuotaExhausted

log = logging.getLogger("duckfed.ratelimit")

#: Seconds added to a window for clock granularity and for an aligned window's start on the server.
ARRIVAL_MARGIN = 0.01
#: How often a caller looks again while the window is full of calls still in flight.
IN_FLIGHT_POLL = 0.02
DAY = 86_400.0


@dataclass
class Ticket:
    """One call the limiter let through: when it was sent, and when its response arrived (None: in flight)."""

    sent: float
    done: float | None = None


@dataclass(frozen=True)
class Window:
    """At most `calls` calls in `seconds`: in any sliding window, or in windows `aligned` to the clock."""

    calls: int
    seconds: float
    aligned: bool = False
    #: The name the API's headers use for this window ("minutely"), to match `Observation`s.
    name: str = ""

    def describe(self) -> str:
        span = f"{self.seconds:g} s" if self.seconds != 60 else "minute"
        kind = "clock " if self.aligned else ""
        return f"{self.calls} calls per {kind}{span}"


@dataclass(frozen=True)
class RateLimit:
    """A vendor's published limits for one account."""

    windows: tuple[Window, ...] = ()
    #: Calls per UTC day; None when the API has no daily quota (or reports it only in headers).
    daily: int | None = None


@dataclass(frozen=True)
class Observation:
    """What one response said about a quota: the window's name ("daily" for the daily quota), the calls left,
    and when it resets (POSIX seconds)."""

    window: str
    remaining: int
    resets_at: float | None = None


class _Aligned:
    """Calls counted in the current clock-aligned window, tightened by what the API reports."""

    def __init__(self, window: Window) -> None:
        self.window = window
        self.start = -math.inf
        self.used = 0
        #: The API's own view: (calls remaining, window end) from its latest response.
        self.reported: tuple[int, float] | None = None

    def end(self, now: float) -> float:
        self._roll(now)
        if self.reported is not None and self.reported[1] > now:
            return self.reported[1]
        return self.start + self.window.seconds

    def _roll(self, now: float) -> None:
        start = math.floor(now / self.window.seconds) * self.window.seconds
        if start != self.start:
            self.start, self.used = start, 0
        if self.reported is not None and self.reported[1] <= now:
            self.reported = None

    def available(self, now: float) -> bool:
        self._roll(now)
        left = self.window.calls - self.used
        if self.reported is not None:
            left = min(left, self.reported[0])
        return left > 0

    def take(self, now: float) -> None:
        self._roll(now)
        self.used += 1
        if self.reported is not None:
            self.reported = (self.reported[0] - 1, self.reported[1])


class AccountLimiter:
    """The limiter of one account, shared by every connection and thread of the process."""

    def __init__(self, key: tuple[str, ...], limit: RateLimit, clock: Callable[[], float] = time.time) -> None:
        self.key = key
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._sliding = {w: collections.deque[Ticket]() for w in limit.windows if not w.aligned}
        self._aligned = [_Aligned(w) for w in limit.windows if w.aligned]
        self._paused_until = 0.0
        self._pause_reason = ""
        self._day = -1
        self._day_used = 0
        self._daily_reported: tuple[int, float] | None = None
        #: Seconds callers spent waiting, for progress displays and benchmarks.
        self.waited = 0.0

    def acquire(self, cancel: CancelToken | None = None, *, what: str = "call") -> Ticket:
        """Block until one more call may be sent, count it as sent, and return its ticket for `complete`."""
        while True:
            with self._lock:
                now = self._clock()
                self._check_daily(now)
                delay, reason = self._delay(now)
                if delay <= 0:
                    return self._take(now)
            if delay > IN_FLIGHT_POLL:
                log.info("%s: waiting %.2f s before %s: %s", self.key[0], delay, what, reason)
            self.waited += delay
            if cancel is not None:
                cancel.wait(delay)
            else:
                time.sleep(delay)

    def _delay(self, now: float) -> tuple[float, str]:
        if self._paused_until > now:
            return self._paused_until - now, self._pause_reason
        for window, tickets in self._sliding.items():
            span = window.seconds + ARRIVAL_MARGIN
            while tickets and tickets[0].done is not None and tickets[0].done <= now - span:
                tickets.popleft()
            if len(tickets) < window.calls:
                continue  # fewer calls kept than the window allows: no need to look at each (a wide limit keeps many)
            active = [t for t in tickets if t.done is None or t.done > now - span]
            if len(active) >= window.calls:
                ends = [t.done + span for t in active if t.done is not None]
                # A window full of calls still in flight frees up as soon as one answers: look again shortly.
                soonest = min(ends) - now if ends else IN_FLIGHT_POLL
                delay = min(soonest, IN_FLIGHT_POLL) if len(ends) < len(active) else soonest
                return max(delay, 1e-3), f"the API allows {window.describe()}"
        for aligned in self._aligned:
            if not aligned.available(now):
                # The server's window may start a moment after ours: wait the margin past its end.
                return aligned.end(now) - now + ARRIVAL_MARGIN, f"the API allows {aligned.window.describe()}"
        return 0.0, ""

    def _take(self, now: float) -> Ticket:
        ticket = Ticket(now)
        for tickets in self._sliding.values():
            tickets.append(ticket)
        for aligned in self._aligned:
            aligned.take(now)
        self._day_used += 1
        if self._daily_reported is not None:
            self._daily_reported = (self._daily_reported[0] - 1, self._daily_reported[1])
        return ticket

    def complete(self, ticket: Ticket) -> None:
        """The call's response arrived (or it failed): its window position is known now."""
        with self._lock:
            ticket.done = self._clock()
            for aligned in self._aligned:
                # Sent at the end of one window, it may have arrived in the next: count it there too.
                if math.floor(ticket.done / aligned.window.seconds) != math.floor(ticket.sent / aligned.window.seconds):
                    aligned.take(ticket.done)

    def daily_remaining(self) -> int | None:
        """Calls left of the daily quota, as far as this process knows (None: no daily quota is known)."""
        with self._lock:
            return self._daily_left(self._clock())[0]

    def _daily_left(self, now: float) -> tuple[int | None, float]:
        day = int(now // DAY)
        if day != self._day:
            self._day, self._day_used = day, 0
        if self._daily_reported is not None and self._daily_reported[1] <= now:
            self._daily_reported = None
        resets_at = (day + 1) * DAY
        left: int | None = None
        if self.limit.daily is not None:
            left = self.limit.daily - self._day_used
        if self._daily_reported is not None:
            remaining, resets_at = self._daily_reported
            left = remaining if left is None else min(left, remaining)
        return left, resets_at

    def _check_daily(self, now: float) -> None:
        left, resets_at = self._daily_left(now)
        if left is not None and left <= 0:
            when = datetime.datetime.fromtimestamp(resets_at, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            raise QuotaExhausted(
                f"the daily API call quota is used up; it resets at {when}", source=self.key[0], resets_at=resets_at
            )

    def observe(self, observations: tuple[Observation, ...]) -> None:
        """Adopt what the API reported about its quotas."""
        if not observations:
            return
        with self._lock:
            now = self._clock()
            for seen in observations:
                if seen.window == "daily":
                    self._daily_reported = (seen.remaining, seen.resets_at or (math.floor(now / DAY) + 1) * DAY)
                    continue
                for aligned in self._aligned:
                    if aligned.window.name == seen.window:
                        end = seen.resets_at if seen.resets_at is not None else aligned.end(now)
                        aligned.reported = (seen.remaining, end)

    def pause(self, seconds: float, reason: str) -> None:
        """Hold every caller of this account for `seconds` (the API said `Retry-After`)."""
        with self._lock:
            until = self._clock() + seconds
            if until > self._paused_until:
                self._paused_until, self._pause_reason = until, reason


_registry: dict[tuple[tuple[str, ...], RateLimit], AccountLimiter] = {}
_registry_lock = threading.Lock()


def limiter_for(key: tuple[str, ...], limit: RateLimit) -> AccountLimiter:
    """The process's one limiter for the account `key` under `limit` (connections configured alike share it)."""
    with _registry_lock:
        found = _registry.get((key, limit))
        if found is None:
            found = _registry[key, limit] = AccountLimiter(key, limit)
        return found


_PERIODS = {"s": 1.0, "sec": 1.0, "second": 1.0, "min": 60.0, "minute": 60.0, "h": 3600.0, "hour": 3600.0}


def parse_rate_limit(text: str) -> RateLimit:
    """A `RateLimit` property value: windows separated by commas, such as ``5/second``, ``60/minute aligned``,
    ``100/10s`` or ``5000/day`` (a daily quota); raises ValueError with what is wrong."""
    windows: list[Window] = []
    daily: int | None = None
    for item in (part.strip() for part in text.split(",")):
        words = item.split()
        aligned = words[1:] == ["aligned"]
        if not words or (len(words) > 1 and not aligned):
            raise ValueError(f"{item!r} is not CALLS/PERIOD [aligned]")
        calls_text, _, period = words[0].partition("/")
        if not calls_text.isdigit() or int(calls_text) < 1:
            raise ValueError(f"{item!r} needs a positive number of calls")
        calls = int(calls_text)
        if period == "day":
            daily = calls
            continue
        seconds = _PERIODS.get(period)
        if seconds is None and period.endswith("s") and period[:-1].replace(".", "", 1).isdigit():
            seconds = float(period[:-1])
        if not seconds:
            raise ValueError(f"{item!r}: the period is second, minute, hour, day or a number of seconds (10s)")
        windows.append(Window(calls, seconds, aligned, "minutely" if aligned and seconds == 60 else ""))
    return RateLimit(tuple(windows), daily)

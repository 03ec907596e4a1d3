"""The rate limiter's arithmetic, on a fake clock (the end-to-end tests against emulators with real quotas are in
tests/conformance and tests/federation/test_ratelimit_live.py)."""

from __future__ import annotations

import pytest

from federation.cancel import CancelToken
from federation.errors import Cancelled, QuotaExhausted
from federation.ratelimit import ARRIVAL_MARGIN, AccountLimiter, Observation, RateLimit, Window


class FakeTime:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


class FakeCancel(CancelToken):
    """Sleeping advances the fake clock instead of waiting."""

    def __init__(self, clock: FakeTime) -> None:
        super().__init__()
        self.clock = clock
        self.slept: list[float] = []

    def wait(self, seconds: float) -> None:
        self.check()
        self.slept.append(seconds)
        self.clock.now += seconds


def test_sliding_window_spaces_calls_by_the_window_plus_the_margin() -> None:
    clock = FakeTime()
    cancel = FakeCancel(clock)
    limiter = AccountLimiter(("t",), RateLimit((Window(5, 1.0),)), clock)
    sent = []
    for _ in range(15):
        limiter.complete(limiter.acquire(cancel))  # each response arrives at once
        sent.append(clock.now)
    # In any window of 1 s (+ margin) never more than 5 calls, and no more waiting than that needs.
    for i in range(len(sent) - 5):
        assert sent[i + 5] - sent[i] >= 1.0 + ARRIVAL_MARGIN - 1e-9
    assert sent[-1] - sent[0] == pytest.approx(2 * (1.0 + ARRIVAL_MARGIN))


def test_aligned_window_waits_for_the_next_clock_window() -> None:
    clock = FakeTime(start=600.0 * 1000 + 40)  # 40 s into a minute
    cancel = FakeCancel(clock)
    limiter = AccountLimiter(("t",), RateLimit((Window(60, 60.0, aligned=True, name="minutely"),)), clock)
    for _ in range(60):
        limiter.complete(limiter.acquire(cancel))
    assert cancel.slept == []
    limiter.complete(limiter.acquire(cancel))
    assert clock.now == pytest.approx(600.0 * 1000 + 60 + ARRIVAL_MARGIN)


def test_what_the_api_reports_tightens_the_window() -> None:
    clock = FakeTime(start=6000.0)
    cancel = FakeCancel(clock)
    limiter = AccountLimiter(("t",), RateLimit((Window(60, 60.0, aligned=True, name="minutely"),)), clock)
    # Another program spent most of this minute's calls: the API says 2 are left until 6030.
    limiter.observe((Observation("minutely", 2, 6030.0),))
    limiter.complete(limiter.acquire(cancel))
    limiter.complete(limiter.acquire(cancel))
    assert cancel.slept == []
    limiter.complete(limiter.acquire(cancel))
    assert clock.now == pytest.approx(6030.0 + ARRIVAL_MARGIN)


def test_a_used_up_daily_quota_fails_at_once_and_says_when_it_resets() -> None:
    clock = FakeTime(start=86_400.0 * 20_000 + 3600)
    limiter = AccountLimiter(("exactonline", "app", "division"), RateLimit(daily=5000), clock)
    limiter.observe((Observation("daily", 0, 86_400.0 * 20_001),))
    with pytest.raises(
        QuotaExhausted, match=r"daily API call quota is used up; it resets at 2024-10-05 00:00:00 UTC"
    ) as caught:
        limiter.acquire(FakeCancel(clock))
    assert caught.value.resets_at == 86_400.0 * 20_001


def test_local_daily_count() -> None:
    clock = FakeTime(start=86_400.0 * 20_000)
    limiter = AccountLimiter(("t",), RateLimit(daily=3), clock)
    for _ in range(3):
        limiter.acquire()
    with pytest.raises(QuotaExhausted):
        limiter.acquire()
    clock.now += 86_400.0
    limiter.acquire()


def test_a_slow_response_holds_its_place_in_the_window_until_it_arrives() -> None:
    clock = FakeTime()
    cancel = FakeCancel(clock)
    limiter = AccountLimiter(("t",), RateLimit((Window(2, 1.0),)), clock)
    first = limiter.acquire(cancel)
    limiter.complete(limiter.acquire(cancel))
    clock.now += 0.5  # the first call's response takes 0.5 s: the server may have counted it that late
    limiter.complete(first)
    limiter.acquire(cancel)
    # The third call waits a full window after the *second* answered (the earlier one), not after it was sent.
    assert clock.now == pytest.approx(1_000_000.0 + 1.0 + ARRIVAL_MARGIN)


def test_a_call_answered_in_the_next_clock_window_counts_there_too() -> None:
    clock = FakeTime(start=600.0 * 1000 + 59.9)
    cancel = FakeCancel(clock)
    limiter = AccountLimiter(("t",), RateLimit((Window(2, 60.0, aligned=True),)), clock)
    ticket = limiter.acquire(cancel)
    clock.now += 0.2  # answered in the next minute, where the server may have counted it
    limiter.complete(ticket)
    limiter.complete(limiter.acquire(cancel))
    assert cancel.slept == []
    limiter.complete(limiter.acquire(cancel))  # the minute's second call is its third counted one: wait
    assert clock.now == pytest.approx(600.0 * 1000 + 120 + ARRIVAL_MARGIN)


def test_retry_after_pauses_every_caller() -> None:
    clock = FakeTime()
    cancel = FakeCancel(clock)
    limiter = AccountLimiter(("t",), RateLimit(), clock)
    limiter.pause(7.5, "the API answered 429")
    limiter.acquire(cancel)
    assert cancel.slept == [7.5]


def test_a_wait_wakes_when_cancelled() -> None:
    limiter = AccountLimiter(("t",), RateLimit())
    limiter.pause(3600, "the API answered 429")
    cancel = CancelToken()
    cancel.cancel("interrupted by the user")
    with pytest.raises(Cancelled, match="interrupted by the user"):
        limiter.acquire(cancel)

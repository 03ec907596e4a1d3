"""The page pipelines of `federation.paging`: order, laziness (what is fetched before it is asked for), bounded
concurrency, failures and stopping early. Pages here are plain functions with real sleeps; the connectors' own
tests run the same pipelines against their emulators."""

from __future__ import annotations

import threading
import time

import pytest

from federation.paging import chained, concurrency_slots, parallel


class Pages:
    """Pages 0..count-1, each a list of its number; records which were fetched and how many at once."""

    def __init__(self, count: int, delay: float = 0.0) -> None:
        self.count = count
        self.delay = delay
        self.fetched: list[int] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    def fetch(self, number: int) -> list[int]:
        with self._lock:
            self.fetched.append(number)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if number < 0:
                raise ValueError(f"page {number} failed")
            # Later pages answer sooner, so completion order differs from request order.
            time.sleep(self.delay * (self.count - number) / self.count)
        finally:
            with self._lock:
                self.in_flight -= 1
        return [number]

    def following(self, page: list[int]) -> list[int] | None:
        return self.fetch(page[0] + 1) if page[0] + 1 < self.count else None


def test_chained_hands_out_every_page_in_order_fetching_the_second_only_when_asked() -> None:
    pages = Pages(6)
    batches = chained(lambda: pages.fetch(0), pages.following, lambda page: page[0] * 10)
    assert pages.fetched == []  # nothing before the first batch is asked for
    assert next(batches) == 0
    time.sleep(0.05)
    assert pages.fetched == [0]  # a LIMIT the first page satisfies costs one call
    assert list(batches) == [10, 20, 30, 40, 50]
    assert pages.fetched == list(range(6))


def test_chained_stops_downloading_when_the_reader_stops() -> None:
    pages = Pages(1000)
    batches = chained(lambda: pages.fetch(0), pages.following, lambda page: page)
    assert [next(batches) for _ in range(3)] == [[0], [1], [2]]
    batches.close()
    time.sleep(0.1)
    stopped_at = len(pages.fetched)
    time.sleep(0.1)
    assert len(pages.fetched) == stopped_at < 10  # a few pages ahead at most, then nothing more


def test_chained_raises_a_failing_page_to_the_reader() -> None:
    def following(page: list[int]) -> list[int] | None:
        if page[0] == 2:
            raise ValueError("page 3 failed")
        return [page[0] + 1]

    batches = chained(lambda: [0], following, lambda page: page[0])
    assert next(batches) == 0
    with pytest.raises(ValueError, match="page 3 failed"):
        list(batches)


def test_chained_of_nothing_is_empty() -> None:
    assert list(chained(lambda: None, lambda page: None, lambda page: page)) == []


def test_parallel_keeps_request_order_and_never_exceeds_its_concurrency() -> None:
    pages = Pages(12, delay=0.05)
    got = list(parallel(pages.fetch, list(range(12)), lambda page: page[0], concurrency=3))
    assert got == list(range(12))
    assert pages.max_in_flight == 3
    assert sorted(pages.fetched) == list(range(12))  # each request once


def test_parallel_scans_of_one_account_share_its_slots() -> None:
    pages = Pages(8, delay=0.05)
    slots = concurrency_slots(("test", "account"), 2)
    results: list[list[int]] = []

    def scan() -> None:
        results.append(list(parallel(pages.fetch, list(range(8)), lambda page: page[0], concurrency=2, slots=slots)))

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [list(range(8))] * 2
    assert pages.max_in_flight == 2


def test_a_failing_page_fails_the_scan_before_the_pages_ahead_of_it_are_read() -> None:
    pages = Pages(6, delay=2.0)
    batches = parallel(pages.fetch, [0, 1, 2, -3, 4, 5], lambda page: page[0], concurrency=4)
    started = time.perf_counter()
    with pytest.raises(ValueError, match="page -3 failed"):
        list(batches)
    # Page -3 fails at once; the scan fails then, not when pages 0 to 2 have answered (1.3 s and more).
    assert time.perf_counter() - started < 1.0


def test_parallel_starts_no_request_after_the_reader_stops() -> None:
    pages = Pages(100, delay=0.01)
    batches = parallel(pages.fetch, list(range(100)), lambda page: page[0], concurrency=2)
    assert next(batches) == 0
    batches.close()
    time.sleep(0.2)
    assert len(pages.fetched) <= 5  # the window ahead of the reader, no more

"""Lazy page iteration with one page of read-ahead, for connectors whose next page depends on the last.

The first page is fetched when asked for and nothing more, so `LIMIT 10` costs one API call. From the second
page on, the page after the one being handed out is fetched (and decoded) on a worker thread while DuckDB
works on the current one, which overlaps network latency with query work on long scans.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

P = TypeVar("P")


def read_ahead(first: Callable[[], P], following: Callable[[P], P | None]) -> Iterator[P]:
    """`first()`, then `following(previous)` until it returns None, one call ahead from the second page on."""
    page: P | None = first()
    if page is None:
        return
    yield page
    page = following(page)
    if page is None:
        return
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="duckfed-page")
    pending: Future[P | None] | None = None
    try:
        while page is not None:
            pending = executor.submit(following, page)
            yield page
            page = pending.result()
            pending = None
    finally:
        if pending is not None:
            pending.cancel()
        executor.shutdown(wait=False, cancel_futures=True)

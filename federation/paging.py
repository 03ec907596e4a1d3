"""Page pipelines: API pages downloaded, decoded and handed to DuckDB on different threads, in order.

A scan that downloads a page and then decodes it (JSON or XML into Arrow, CPU work in Python) on the same thread
costs the sum of both; here they overlap, so a scan costs about its download time. Two shapes:

- `chained`: the next request depends on the last response (a cursor, a next link, the last key read). One
  thread downloads page after page, reading from each raw response only what the next request needs (cheaply:
  `following` must not decode the page), while another thread decodes them and the caller consumes them.
- `parallel`: the API pages by offset and the first page said how many rows there are, so every later request is
  known up front: up to `concurrency` of them are in flight at once (each still waits for the account's
  process-wide rate limiter inside the HTTP client), decoded on one other thread, handed out in request order.
  `concurrency_slots` caps the requests in flight per account across every parallel scan of the process, for
  vendors that refuse more than a few concurrent calls.

Both are lazy: nothing is fetched before the first batch is asked for, and `chained` fetches nothing beyond the
first page before the second batch is asked for, so a LIMIT the first page satisfies costs one call (callers of
`parallel` start it only once the first page proved there are more, and plan only the pages they need). Both
hand out pages in request order; when the caller stops reading (DuckDB closes the stream at a LIMIT) no new
request starts; a page that fails fails the scan at the next batch the caller asks for; and cancellation
(`federation.cancel`) reaches every request in flight through the token of the statement reading the pages, which the
download threads carry.
"""

from __future__ import annotations

import concurrent.futures
import queue
import threading
from collections.abc import Callable, Generator, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar, overload

from federation.cancel import carried

if TYPE_CHECKING:
    from federation.http import HttpClient

R = TypeVar("R")
B = TypeVar("B")
T = TypeVar("T")

#: Raw pages downloaded ahead of the one being decoded: enough to keep both threads busy, little memory.
AHEAD = 2
#: How often a blocked producer looks whether the consumer has gone.
_POLL = 0.05


class _End:
    """The producer's last item: the pages ended, or `error` ended them."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class _Stream(Generic[B]):
    """Decoded pages from a producer thread, through a bounded queue of decode futures."""

    def __init__(self, ahead: int) -> None:
        self.items: queue.Queue[concurrent.futures.Future[B] | _End] = queue.Queue(maxsize=ahead)
        self.stopped = threading.Event()
        self.decoder = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="duckfed-decode")

    def put(self, item: concurrent.futures.Future[B] | _End) -> bool:
        """Queue `item` unless the consumer has gone; False when it has."""
        while not self.stopped.is_set():
            try:
                self.items.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def close(self) -> None:
        self.stopped.set()
        self.decoder.shutdown(wait=False, cancel_futures=True)


def chained(
    first: Callable[[], R | None], following: Callable[[R], R | None], decode: Callable[[R], B]
) -> Generator[B, None, None]:
    """`decode(first())`, then the decoded pages `following(previous)` returns until it returns None (nothing when
    `first()` returns None).

    The first page is fetched and decoded on the caller's thread when the first batch is asked for; from the second
    on, one thread downloads (`following` of each raw page) and another decodes, up to `AHEAD` pages ahead."""
    raw = first()
    if raw is None:
        return
    yield decode(raw)
    stream: _Stream[B] = _Stream(AHEAD)

    def download() -> None:
        previous = raw
        try:
            while not stream.stopped.is_set():
                page = following(previous)
                if page is None:
                    break
                if not stream.put(stream.decoder.submit(decode, page)):
                    return
                previous = page
        except BaseException as error:
            stream.put(_End(error))
            return
        stream.put(_End())

    threading.Thread(target=carried(download), name="duckfed-download", daemon=True).start()
    try:
        while True:
            item = stream.items.get()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item.result()
    finally:
        stream.close()


@overload
def parallel(
    fetch: Callable[[T], R],
    requests: Sequence[T],
    decode: None = None,
    *,
    concurrency: int,
    slots: threading.Semaphore | None = None,
) -> Generator[R, None, None]: ...


@overload
def parallel(
    fetch: Callable[[T], R],
    requests: Sequence[T],
    decode: Callable[[R], B],
    *,
    concurrency: int,
    slots: threading.Semaphore | None = None,
) -> Generator[B, None, None]: ...


def parallel(
    fetch: Callable[[T], R],
    requests: Sequence[T],
    decode: Callable[[R], B] | None = None,
    *,
    concurrency: int,
    slots: threading.Semaphore | None = None,
) -> Generator[R | B, None, None]:
    """The decoded pages of `requests`, in order, with up to `concurrency` fetched at once (and at most `slots`
    allows across the account), at most twice that many downloaded ahead of the caller. Without `decode` the pages
    are handed out as `fetch` returns them (it decodes them itself, on the fetching threads)."""
    if not requests:
        return
    workers = max(1, concurrency)
    fetcher = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="duckfed-page")
    decoder = (
        None
        if decode is None
        else concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="duckfed-decode")
    )
    stopped = threading.Event()

    def one(request: T) -> R | concurrent.futures.Future[B]:
        if stopped.is_set():
            raise concurrent.futures.CancelledError
        if slots is None:
            raw = fetch(request)
        else:
            while not slots.acquire(timeout=_POLL):
                if stopped.is_set():
                    raise concurrent.futures.CancelledError
            try:
                raw = fetch(request)
            finally:
                slots.release()
        return raw if decoder is None or decode is None else decoder.submit(decode, raw)

    one = carried(one)  # the fetches are calls of the statement that reads the pages
    window = 2 * workers
    pending = [fetcher.submit(one, request) for request in requests[:window]]
    submitted = len(pending)
    try:
        while pending:
            head = pending[0]
            while not head.done():
                # Any page's failure fails the scan now, not when the caller reaches that page.
                for finished in pending:
                    if finished.done() and not finished.cancelled() and finished.exception() is not None:
                        finished.result()
                waiting = [future for future in pending if not future.done()]
                concurrent.futures.wait(waiting, return_when=concurrent.futures.FIRST_COMPLETED)
            fetched = head.result()
            pending.pop(0)
            if submitted < len(requests):
                pending.append(fetcher.submit(one, requests[submitted]))
                submitted += 1
            yield fetched.result() if isinstance(fetched, concurrent.futures.Future) else fetched
    finally:
        stopped.set()
        fetcher.shutdown(wait=False, cancel_futures=True)
        if decoder is not None:
            decoder.shutdown(wait=False, cancel_futures=True)


_slots: dict[tuple[str, ...], tuple[int, threading.Semaphore]] = {}
_slots_lock = threading.Lock()


def concurrency_slots(key: tuple[str, ...], limit: int) -> threading.Semaphore:
    """The process's one semaphore of `limit` concurrent calls for the account `key` (shared by every scan)."""
    with _slots_lock:
        found = _slots.get(key)
        if found is None or found[0] != limit:
            found = _slots[key] = (limit, threading.BoundedSemaphore(limit))
        return found[1]


def account_slots(http: HttpClient, limit: int) -> threading.Semaphore:
    """`concurrency_slots` of the account whose rate limiter `http` waits for (its source when it has none)."""
    key = http.limiter.key if http.limiter is not None else (http.source,)
    return concurrency_slots(key, limit)

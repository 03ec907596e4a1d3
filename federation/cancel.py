"""Cancellation: Ctrl-C, a Jupyter interrupt, a statement timeout or a served client's cancel request wakes a call
that is waiting; and the calls a statement sent, against `MaxCalls`.

A scan runs on DuckDB's threads, where a KeyboardInterrupt never arrives, and may be waiting on an HTTP response
or on the rate limiter (Exact Online can make it wait most of a minute). Each cursor of a connection holds a
`Statement` of its own: its statements' calls run `within` it (the caller's thread, the DuckDB threads while they
read the cursor's scans, and the download threads a scan starts, through `carried`), every wait in the kit is a
`token.wait(seconds)` on that statement's token that returns early, each call is counted in it, and the cursor's
next statement begins it again. So stopping one cursor's statement never touches another's, and one's calls never
count against another's `MaxCalls`, as `duckfed serve`'s concurrent clients need. A call outside any statement
belongs to its HTTP client's own, which closing the client stops. Writes are never abandoned in mid-call (the API
might apply them anyway): a cancelled write stops before its next call.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

from federation.errors import Cancelled

P = ParamSpec("P")
T = TypeVar("T")


class CancelToken:
    """A flag that wakes waiters when set."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = "the statement was interrupted"

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self, reason: str = "the statement was interrupted") -> None:
        self.reason = reason
        self._event.set()

    def reset(self) -> None:
        self._event.clear()

    def check(self) -> None:
        """Raise `Cancelled` if the token is set."""
        if self._event.is_set():
            raise Cancelled(self.reason)

    def wait(self, seconds: float) -> None:
        """Sleep `seconds`, or raise `Cancelled` as soon as the token is set."""
        if self._event.wait(max(0.0, seconds)):
            raise Cancelled(self.reason)


class Statement:
    """A statement as its API calls see it: what stops it, and how many calls it sent to each API client."""

    def __init__(self) -> None:
        self.token = CancelToken()
        self._sent: dict[int, int] = {}
        self._lock = threading.Lock()

    def begin(self) -> None:
        """The next statement of the cursor begins: no call sent yet (its `MaxCalls` budgets are whole again)."""
        with self._lock:
            self._sent.clear()

    def spent(self, client: object) -> int:
        """The calls sent to `client` in this statement."""
        with self._lock:
            return self._sent.get(id(client), 0)

    def charge(self, client: object, cap: int) -> bool:
        """Count one more call to `client`, unless `cap` (0: none) calls were sent already: False then."""
        with self._lock:
            sent = self._sent.get(id(client), 0)
            if cap and sent >= cap:
                return False
            self._sent[id(client)] = sent + 1
            return True


_running = threading.local()


def current_statement() -> Statement | None:
    """The statement this thread's calls belong to, or None outside any."""
    running: Statement | None = getattr(_running, "statement", None)
    return running


@contextlib.contextmanager
def within(statement: Statement | None) -> Iterator[None]:
    """Calls made on this thread in the block belong to `statement` (None: to none)."""
    before = current_statement()
    _running.statement = statement
    try:
        yield
    finally:
        _running.statement = before


def carried(function: Callable[P, T]) -> Callable[P, T]:
    """`function`, to be run on another thread as part of the statement the calling thread runs now."""
    statement = current_statement()
    if statement is None:
        return function

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        with within(statement):
            return function(*args, **kwargs)

    return run


class _InterruptWatch:
    """Notices Ctrl-C while the main thread is inside DuckDB, where Python can't run its signal handler.

    A statement's scans wait on DuckDB's threads; meanwhile the main thread sits in DuckDB's C++ code and the
    KeyboardInterrupt only arrives when DuckDB returns, which is after those waits end. Python's C-level handler
    still writes the signal number to the wakeup fd (`signal.set_wakeup_fd`), so while a statement runs on the main
    thread that fd is ours, a watcher thread reads it and stops the statement at once; the KeyboardInterrupt then
    follows as usual. A wakeup fd someone else set (asyncio's) is restored afterwards and passed the byte.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reader: socket.socket | None = None
        self._writer: socket.socket | None = None
        self._running: dict[int, Callable[[], None]] = {}
        self._previous = -1

    def _start(self) -> None:
        self._reader, self._writer = socket.socketpair()
        self._writer.setblocking(False)
        threading.Thread(target=self._watch, daemon=True, name="duckfed-interrupts").start()

    def _watch(self) -> None:
        assert self._reader is not None
        while data := self._reader.recv(64):
            if signal.SIGINT in data:
                with self._lock:
                    stops = list(self._running.values())
                for stop in stops:
                    stop()
            if self._previous != -1:
                with contextlib.suppress(OSError):
                    os.write(self._previous, data)

    @contextlib.contextmanager
    def running(self, stop: Callable[[], None]) -> Iterator[None]:
        """While the block runs on the main thread, Ctrl-C calls `stop` at once."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        with self._lock:
            if self._reader is None:
                self._start()
            assert self._writer is not None
            key = id(stop)
            self._running[key] = stop
            if len(self._running) == 1:
                self._previous = signal.set_wakeup_fd(self._writer.fileno())
        try:
            yield
        finally:
            with self._lock:
                self._running.pop(key, None)
                if not self._running:
                    signal.set_wakeup_fd(self._previous)
                    self._previous = -1


interrupts = _InterruptWatch()

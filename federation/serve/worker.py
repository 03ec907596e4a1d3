"""Where a session's blocking calls run: on the server's worker threads, one at a time, as the session's running
statement, so a cancel request or the statement timeout can stop it.

DuckDB and the sources block, so nothing of a statement runs on the event loop: each call goes to the server's
executor, and errors come back as the SQLSTATE failure the client gets (`federation.serve.sqlstate`).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

from federation.connection import Connection
from federation.errors import Cancelled, Error
from federation.serve.sqlstate import Failure, failure

T = TypeVar("T")


class Worker:
    """Runs one session's blocking calls on the server's threads, and stops the running one on request."""

    def __init__(self, executor: Executor, cursor: Connection, statement_timeout: float | None) -> None:
        self.executor = executor
        self.cursor = cursor
        self.statement_timeout = statement_timeout
        #: Why the running statement is being stopped (a cancel request, the statement timeout).
        self._stop: str | None = None
        self._running = False
        self._lock = threading.Lock()

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run a blocking call on the server's workers, as this session's running statement."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self._guarded, function, *args)

    def _guarded(self, function: Callable[..., T], *args: Any) -> T:
        with self._lock:
            self._running = True
        try:
            if self._stop is not None:
                raise Cancelled(self._stop)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # DuckDB's notes about copies; the rollback warning goes as a notice
                return function(*args)
        except (Error, duckdb.Error, pa.ArrowException, OSError) as error:
            if self._stop is not None and isinstance(error, Cancelled | duckdb.InterruptException):
                raise Failure("57014", f"canceling statement: {self._stop}") from None
            raise failure(error) from None
        finally:
            with self._lock:
                self._running = False

    def stop(self, reason: str) -> None:
        """Stop the running statement (a cancel request, or the statement timeout); thread-safe."""
        self._stop = reason
        with self._lock:
            running = self._running
        if running:
            self.cursor.interrupt(reason)

    @contextlib.contextmanager
    def timed(self) -> Iterator[None]:
        """A statement's run: a cancel before it is forgotten, and the statement timeout runs."""
        self._stop = None
        timeout = self.statement_timeout
        timer = None
        if timeout:
            timer = threading.Timer(timeout, self.stop, args=(f"it ran past the statement timeout of {timeout:g} s",))
            timer.daemon = True
            timer.start()
        try:
            yield
        finally:
            if timer is not None:
                timer.cancel()

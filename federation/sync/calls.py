"""Counting the API calls a sync spends, per table and per deletion check, for its output and `_duckfed_sync`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from federation.connector import Connector
from federation.http import HttpClient


class CallCounter:
    """The API calls one connector sends while `counting` (retries and logins included: each is a call)."""

    def __init__(self) -> None:
        self._done = 0
        self._live: tuple[HttpClient, int] | None = None

    @property
    def calls(self) -> int:
        if self._live is None:
            return self._done
        http, before = self._live
        return self._done + http.calls - before

    @contextmanager
    def counting(self, connector: Connector) -> Iterator[None]:
        http = connector.http
        if http is None:
            yield
            return
        self._live = (http, http.calls)
        try:
            yield
        finally:
            self._done = self.calls
            self._live = None

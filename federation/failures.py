"""The way back from a scan to its statement: the errors DuckDB's streams raised, kept until reported.

DuckDB reports an exception raised in a Python source's stream as its own error quoting the text, and the
stream may be read long after the call that started the statement (an Arrow reader, a lazy relation). So the
scan sources (`federation.bridge`) record what they raise here, and the connection (`Connection.run`) takes back
the typed error behind DuckDB's. It is a module of its own because both sides use it and neither should know the
other: the sources speak DuckDB's source protocol, the connection DuckDB's API.
"""

from __future__ import annotations

import re
import threading
from collections import deque

from federation.errors import Error
from federation.progress import Progress

#: The reason a statement stopped by Ctrl-C gives (the connection raises KeyboardInterrupt for it).
CTRL_C = "the statement was interrupted (Ctrl-C)"
#: How DuckDB names a Python source in the error it raises when the source's stream fails.
_STREAM = re.compile(r"registered as '((?:[^']|'')*)'")


class Failures:
    """Errors the streams of one DuckDB connection raised, until the statement that read the stream reports them.

    DuckDB turns an exception raised in a stream into an `InvalidInputException` whose text names the stream's
    registered name and quotes the exception. `raised` gives back the error that text quotes, so a statement
    raises its own failure, typed, and never one another statement left behind (an abandoned Arrow reader, a
    relation whose error was never read). The streams' other way back to the connection rides along: its
    `progress`, which each scan counts its pages into.
    """

    #: Failures kept per stream name: enough for the statements that can be open on one connection at once.
    KEPT = 8

    def __init__(self, progress: Progress | None = None) -> None:
        self.progress = progress
        self._lock = threading.Lock()
        self._by_name: dict[str, deque[Error]] = {}

    def record(self, name: str, error: Error) -> None:
        with self._lock:
            self._by_name.setdefault(name, deque(maxlen=self.KEPT)).append(error)

    def raised(self, error: Exception) -> Error | None:
        """Our error behind DuckDB's `error` (taken: it is reported once), or None when DuckDB's is its own."""
        text = str(error)
        found = _STREAM.search(text)
        if found is None:
            return None
        name = found.group(1).replace("''", "'")
        with self._lock:
            recorded = self._by_name.get(name)
            mine = next((e for e in reversed(recorded) if str(e) in text), None) if recorded else None
            if recorded and mine is not None:
                recorded.remove(mine)
        return mine

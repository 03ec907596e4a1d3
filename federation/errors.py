"""The one error tree of duckfed, on top of PEP 249's classes.

```
Error                                  PEP 249 base; every error carries redacted context
├── InterfaceError                     misuse of the Python API
│   └── ConfigurationError             a connection property is unknown, missing or malformed
└── DatabaseError
    ├── OperationalError
    │   ├── ConnectionFailed           the API host can't be reached
    │   ├── AuthenticationError        the API refused the credentials (its own message)
    │   ├── QuotaExhausted             a daily call quota is used up; says when it resets
    │   ├── CallBudgetExceeded         the statement would spend more calls than MaxCalls or the quota left
    │   ├── Cancelled                  the statement's QueryTimeout passed, or it was interrupted
    │   │   └── Interrupted            by Ctrl-C (a notebook's interrupt); raised as KeyboardInterrupt
    │   └── TransientError             worth retrying: 429, 5xx, dropped connection
    │       ├── SessionExpired         the API says the session is gone; re-authenticate, then retry
    │       └── RateLimited            the API refused the request for its rate limit
    ├── ProgrammingError
    │   ├── UnknownTableError          no such table in the source
    │   ├── UnknownColumnError         no such column in the table
    │   ├── MissingFilterError         the API needs a filter on a column that the query lacks
    │   └── QueryRejected              the API refused a query it was sent (its own message)
    │       └── StaleMetadata          the API rejected a field the cached metadata lists (schema drift)
    ├── NotSupportedError
    │   └── ReadOnlyError              the table or column can't be written
    ├── DataError                      a value does not fit the column
    ├── IntegrityError                 a write leaves out a value the API requires
    └── WriteError                     the API refused some records of a write; says how many were written

Warning                                PEP 249 warning
└── IrreversibleWriteWarning           a rollback could not undo records the API had already written
```

Retryability is a type (`TransientError`), never a string match. Messages are built from safe parts only: the
source, the operation, the API's own message and request id — never a credential.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class Error(Exception):
    """The base of every duckfed error (PEP 249 `Error`)."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        operation: str | None = None,
        api_code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.operation = operation
        self.api_code = api_code
        self.request_id = request_id
        super().__init__(self._render())

    def _render(self) -> str:
        where = ": ".join(part for part in (self.source, self.operation) if part)
        text = f"{where}: {self.message}" if where else self.message
        if self.api_code:
            text += f" [{self.api_code}]"
        if self.request_id:
            text += f" (request {self.request_id})"
        return text


class Warning(Exception):
    """PEP 249 `Warning`."""


class InterfaceError(Error):
    """Misuse of the Python API."""


class ConfigurationError(InterfaceError):
    """A connection property is unknown, missing or malformed."""


class DatabaseError(Error):
    """An error reported by, or about, the data source."""


class OperationalError(DatabaseError):
    """The source could not do what was asked for reasons outside the statement."""


class ConnectionFailed(OperationalError):
    """The API host can't be reached."""


class AuthenticationError(OperationalError):
    """The API refused the credentials."""


class QuotaExhausted(OperationalError):
    """A call quota (per day) is used up: waiting would take hours, so the statement fails now.

    `resets_at` is the POSIX time when the quota resets, when known."""

    def __init__(self, message: str, *, resets_at: float | None = None, **context: str | None) -> None:
        self.resets_at = resets_at
        super().__init__(message, **context)


class CallBudgetExceeded(OperationalError):
    """A statement needs more API calls than it may spend: the `MaxCalls` property's cap, or what is left of the
    daily quota. Refused before the first call where the count is known up front (a write), else stopped at the
    cap (a scan), never returning a partial result."""


class Cancelled(OperationalError):
    """The statement ran past its timeout, or was interrupted."""


class Interrupted(Cancelled):
    """Ctrl-C or a notebook's interrupt: the connection raises KeyboardInterrupt, as Python code does."""


class TransientError(OperationalError):
    """A failure that may pass: a retry after `retry_after` seconds (when known) can succeed."""

    def __init__(self, message: str, *, retry_after: float | None = None, **context: str | None) -> None:
        self.retry_after = retry_after
        super().__init__(message, **context)


class SessionExpired(TransientError):
    """The API no longer accepts the session; re-authenticating and retrying is expected to work."""


class RateLimited(TransientError):
    """The API refused the request for its rate limit (it did nothing); wait `retry_after` and retry."""


class ProgrammingError(DatabaseError):
    """The statement is wrong for the source."""


class UnknownTableError(ProgrammingError):
    """No such table in the source."""


class UnknownColumnError(ProgrammingError):
    """No such column in the table."""


class MissingFilterError(ProgrammingError):
    """The API can't list a table without a filter on a column, and the query gives none."""


class QueryRejected(ProgrammingError):
    """The API refused a query it was sent."""


class StaleMetadata(QueryRejected):
    """The API rejected a field that the cached metadata lists: the table changed since it was described."""


class IntegrityError(DatabaseError):
    """PEP 249 `IntegrityError`: a write leaves out a value the API requires."""


class InternalError(DatabaseError):
    """PEP 249 `InternalError`: a defect in duckdb or duckfed."""


class NotSupportedError(DatabaseError):
    """The operation is not supported by the source."""


class ReadOnlyError(NotSupportedError):
    """The table or column can't be written."""


class DataError(DatabaseError):
    """A value does not fit the column it is meant for."""


@dataclass(frozen=True)
class RecordFailure:
    """One record the API refused: its position in the statement's rows (0-based) and the API's reason."""

    position: int
    code: str
    message: str
    fields: tuple[str, ...] = ()

    def describe(self) -> str:
        fields = f" (fields: {', '.join(self.fields)})" if self.fields else ""
        return f"row {self.position + 1}: {self.code}: {self.message}{fields}"


class WriteError(DatabaseError):
    """The API refused some records of a write. `written` records did reach it (`keys`: theirs, in row order);
    `failures` say which did not and why; `unknown` records may or may not have been written."""

    def __init__(
        self,
        message: str,
        *,
        written: int,
        failures: Sequence[RecordFailure] = (),
        unknown: int = 0,
        keys: Sequence[object] = (),
        **context: str | None,
    ) -> None:
        self.written = written
        self.failures = tuple(failures)
        self.unknown = unknown
        self.keys = tuple(keys)
        shown = "; ".join(failure.describe() for failure in self.failures[:10])
        more = f"; and {len(self.failures) - 10} more" if len(self.failures) > 10 else ""
        detail = f" {shown}{more}" if shown else ""
        super().__init__(f"{message}{detail}", **context)


class IrreversibleWriteWarning(Warning, UserWarning):
    """A rollback after writes had reached the API: SaaS writes can't be undone, and this says how many stay."""

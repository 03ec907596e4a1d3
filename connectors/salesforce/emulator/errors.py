"""The REST API's error shape, raised anywhere in the emulator and rendered once by the server.

A request-level error is an HTTP status with a JSON array body ``[{"message", "errorCode", "fields"?}]``; the
same error inside an sObject Collections result is a SaveResult entry ``{"statusCode", "message", "fields"}``.
`for_status` gives the body the platform sends with a bare status (what an injected fault answers).
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error as the platform reports it: HTTP status, error code, message and the fields concerned."""

    def __init__(self, status: int, error_code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = fields

    def body(self) -> list[dict[str, Any]]:
        """The response body of a request that failed with this error."""
        entry: dict[str, Any] = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
            entry["fields"] = self.fields
        return [entry]

    def save_error(self) -> dict[str, Any]:
        """This error as one entry of a SaveResult's ``errors`` list."""
        return {"statusCode": self.error_code, "message": self.message, "fields": self.fields or []}


def record_error(error_code: str, message: str, fields: list[str] | None = None) -> ApiError:
    """A validation error on a record: HTTP 400 when it fails a single-record request."""
    return ApiError(400, error_code, message, fields)


def not_found() -> ApiError:
    """404 for an unknown resource, object or record."""
    return ApiError(404, "NOT_FOUND", "The requested resource does not exist")


#: The platform's error body per status, for REST (JSON array) requests.
_REST_BODIES: dict[int, tuple[str, str]] = {
    400: ("BAD_REQUEST", "Bad request"),
    401: ("INVALID_SESSION_ID", "Session expired or invalid"),
    403: ("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    404: ("NOT_FOUND", "The requested resource does not exist"),
    429: ("REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."),
    502: ("SERVER_UNAVAILABLE", "Bad gateway"),
    503: ("SERVER_UNAVAILABLE", "Server temporarily unavailable"),
}
_UNKNOWN = (
    "UNKNOWN_EXCEPTION",
    "An unexpected error occurred. Please include this ErrorId if you contact support: 1957340157-1337 (-1234567890)",
)


def for_status(status: int) -> ApiError:
    """The error the platform answers a REST request with for this HTTP status (an injected fault's body)."""
    code, message = _REST_BODIES.get(status, _UNKNOWN)
    return ApiError(status, code, message)

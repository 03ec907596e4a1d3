"""The template API's HTTP side: its error envelope as typed errors, its operations, and its published limits.

Errors arrive as `{"error": {"code", "message"}}` with the HTTP status saying the kind.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from federation.errors import (
    DatabaseError,
    DataError,
    Error,
    ProgrammingError,
    StaleMetadata,
    UnknownTableError,
)
from federation.http import Operation, error_check
from federation.ratelimit import RateLimit, Window

#: The template API's published limit: 10 calls in any sliding second per client.
LIMIT = RateLimit((Window(10, 1.0),))

LIST_TABLES = Operation("list tables", idempotent=True)
LIST_RECORDS = Operation("list records", idempotent=True)
AGGREGATE = Operation("aggregate", idempotent=True)
#: Creates carry an Idempotency-Key, so the API answers a repeat with the first reply: safe to re-send.
CREATE = Operation("create", idempotent=True)
UPDATE = Operation("update", idempotent=True)
DELETE = Operation("delete", idempotent=True)


def describe_operation(table: str) -> Operation:
    return Operation(f"describe {table}", idempotent=True)


def api_error(response: httpx.Response) -> tuple[str | None, str]:
    try:
        body: Any = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None, response.text.strip()[:300] or f"HTTP {response.status_code}"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code")), str(error.get("message"))
    return None, f"HTTP {response.status_code}"


def _classify(response: httpx.Response, code: str | None, message: str) -> Error:
    status = response.status_code
    if status == 400 and message.startswith("unknown fields"):
        return StaleMetadata(message, api_code=code)
    if status == 404:
        return (
            UnknownTableError(message, api_code=code)
            if message.startswith("no table")
            else ProgrammingError(message, api_code=code)
        )
    if status == 422:
        return DataError(message, api_code=code)
    if status == 400:
        return ProgrammingError(message, api_code=code)
    return DatabaseError(message, api_code=code)


check = error_check(api_error, _classify)

"""Act-On's HTTP side: each layer's error envelope as typed errors, the API's operations, and its limits.

Errors (api-protocols.md §3.6) arrive as `{"errorCode", "message"}` from `/api/1`, as the gateway's
`{"httpCode", "httpMessage", "moreInformation"}`, or as `{"error", "error_description"}` from `/token` (the kit's
`token_check` reads those). Their text reaches the user verbatim, with the code in brackets.
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
)
from federation.http import Operation, error_check
from federation.ratelimit import RateLimit, Window

#: Act-On's published limits (developer.act-on.com, API overview): 5 calls in any second, 30,000 a day.
LIMIT = RateLimit((Window(5, 1.0),), daily=30_000)
#: Act-On's documented error codes for a record, list or image that does not exist.
NOT_FOUND_CODES = frozenset({"10004", "10008", "10054"})
INVALID_COLUMN = "10010"

LIST_LISTS = Operation("list contact lists", idempotent=True)
DESCRIBE_LIST = Operation("describe contact list", idempotent=True)
DOWNLOAD = Operation("download list records", idempotent=True)
LOOKUP = Operation("look up contact by e-mail", idempotent=True)
GET_RECORD = Operation("get contact record", idempotent=True)
LIST_IMAGES = Operation("list images", idempotent=True)
GET_IMAGE = Operation("get image", idempotent=True)
LIST_MEDIA = Operation("list media", idempotent=True)
LIST_MESSAGES = Operation("list messages", idempotent=True)
#: Upsert by e-mail: sending it twice updates the record the first one made, so it is safe to re-send.
UPSERT = Operation("upsert contact", idempotent=True)
UPDATE_RECORD = Operation("update contact", idempotent=True)
DELETE_RECORDS = Operation("delete contacts", idempotent=True)
#: An upload re-sent after a lost reply would store the image twice.
UPLOAD_IMAGE = Operation("upload image", idempotent=False)
REPLACE_IMAGE = Operation("replace image", idempotent=True)
DELETE_IMAGE = Operation("delete image", idempotent=True)
CREATE_LIST = Operation("create list", idempotent=False)


def api_error(response: httpx.Response) -> tuple[str | None, str]:
    """(code, message) from whichever layer's envelope the response carries."""
    try:
        body: Any = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None, response.text.strip()[:300] or f"HTTP {response.status_code}"
    if isinstance(body, dict):
        if "errorCode" in body:
            return str(body["errorCode"]), str(body.get("message", ""))
        if "httpCode" in body:
            detail = str(body.get("moreInformation") or "")
            message = str(body.get("httpMessage", ""))
            return str(body["httpCode"]), f"{message}: {detail}" if detail else message
        if "error" in body:
            return str(body["error"]), str(body.get("error_description") or body["error"])
        if "errorName" in body:
            return str(body["errorName"]), str(body.get("message", ""))
    return None, f"HTTP {response.status_code}"


def _classify(response: httpx.Response, code: str | None, message: str) -> Error:
    status = response.status_code
    if code == INVALID_COLUMN:
        # The list no longer has a column its cached description names.
        return StaleMetadata(message, api_code=code)
    if code == "10085":
        return DataError(message, api_code=code)
    if status in (400, 404):
        return ProgrammingError(message, api_code=code)
    return DatabaseError(message, api_code=code)


check = error_check(api_error, _classify)


def is_not_found(error: Error) -> bool:
    return error.api_code in NOT_FOUND_CODES

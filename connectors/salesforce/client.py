"""The Salesforce REST client: objects list, describe, query and queryMore, and the platform's error bodies.

Error bodies are JSON arrays (`[{"message", "errorCode", "fields"}]`) or, from OAuth, `{"error",
"error_description"}`; `classify` maps them and the status onto `federation.errors` types by meaning.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
import orjson

from federation.errors import (
    AuthenticationError,
    DatabaseError,
    Error,
    OperationalError,
    ProgrammingError,
    QueryRejected,
    StaleMetadata,
    UnknownTableError,
)
from federation.http import HttpClient, Operation, error_check
from federation.ratelimit import Observation

log = logging.getLogger("duckfed.salesforce")

#: The largest batch the query API accepts (Sforce-Query-Options: batchSize=200..2000).
MAX_BATCH_SIZE = 2000

_QUERY_ERRORS = frozenset(
    {
        "MALFORMED_QUERY",
        "INVALID_FIELD",
        "INVALID_TYPE",
        "INVALID_QUERY_FILTER_OPERATOR",
        "NUMBER_OUTSIDE_VALID_RANGE",
        "INVALID_QUERY_LOCATOR",
        "QUERY_TIMEOUT",
    }
)


def api_error(response: httpx.Response) -> tuple[str | None, str]:
    """The API's error code and message from an error response."""
    try:
        body: Any = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        text = response.text.strip()
        return None, text[:500] or f"HTTP {response.status_code}"
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return body[0].get("errorCode"), str(body[0].get("message", ""))
    if isinstance(body, dict) and "error" in body:
        return str(body["error"]), str(body.get("error_description") or body["error"])
    return None, f"HTTP {response.status_code}"


def readable(message: str) -> str:
    """The API's query error without the echo of the statement: "No such column … (row 1, column 8)"."""
    if "ERROR at Row:" not in message:
        return message.strip()
    _, _, rest = message.partition("ERROR at Row:")
    position, _, explanation = rest.partition("\n")
    row, _, column = position.partition(":Column:")
    return f"{explanation.strip()} (row {row.strip()}, column {column.strip()})"


#: Reads can be repeated: they change nothing.
LIST_OBJECTS = Operation("list objects", idempotent=True)
QUERY = Operation("query", idempotent=True)
QUERY_MORE = Operation("queryMore", idempotent=True)
SERVER_TIME = Operation("server time", idempotent=True)


def _classify(response: httpx.Response, code: str | None, message: str) -> Error:
    """The REST API's other errors, by meaning."""
    status = response.status_code
    if code == "INVALID_FIELD" and "No such column" in message:
        # A field the cached describe lists is gone (a custom field was deleted): the metadata is stale.
        return StaleMetadata(readable(message), api_code=code)
    if code in _QUERY_ERRORS:
        return QueryRejected(readable(message), api_code=code)
    if code in ("invalid_grant", "invalid_client_id", "invalid_client", "inactive_user", "inactive_org"):
        return AuthenticationError(message, api_code=code)
    if status == 404:
        return UnknownTableError(message, api_code=code)
    if status == 403:
        return OperationalError(message, api_code=code)
    if status == 400:
        return ProgrammingError(message, api_code=code)
    return DatabaseError(message, api_code=code)


check = error_check(api_error, _classify)

_API_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")


def limit_info(response: httpx.Response) -> tuple[Observation, ...]:
    """The org's daily API allocation from `Sforce-Limit-Info: api-usage=USED/LIMIT` (REST API Developer Guide,
    "Limit Info Header": calls in the last 24 hours and the org's allocation), as the limiter's daily observation
    (a federation.http.QuotaReader)."""
    found = _API_USAGE.search(response.headers.get("sforce-limit-info", ""))
    if found is None:
        return ()
    used, limit = int(found.group(1)), int(found.group(2))
    return (Observation("daily", max(limit - used, 0)),)


class SalesforceClient:
    """REST calls for one connection; paths go to the instance the session names."""

    def __init__(self, http: HttpClient, api_version: str) -> None:
        self.http = http
        self.api_version = api_version

    @property
    def data_path(self) -> str:
        return f"/services/data/v{self.api_version}"

    def instance(self) -> str:
        """The instance URL of the current session (logging in first if needed)."""
        assert self.http.auth is not None
        return self.http.auth.endpoint()

    def get_json(self, path: str, operation: Operation) -> Any:
        return orjson.loads(self.http.request("GET", path, operation=operation).content)

    def sobjects(self) -> list[dict[str, Any]]:
        body = self.get_json(f"{self.data_path}/sobjects/", LIST_OBJECTS)
        return list(body["sobjects"])

    def describe(self, name: str) -> dict[str, Any]:
        operation = Operation(f"describe {name}", idempotent=True)
        return dict(self.get_json(f"{self.data_path}/sobjects/{name}/describe/", operation))

    def query(self, soql: str, batch_size: int = MAX_BATCH_SIZE) -> bytes:
        """The first page of a SOQL query, as the raw response body."""
        log.debug("SOQL: %s", soql)
        response = self.http.request(
            "GET",
            f"{self.data_path}/query",
            operation=QUERY,
            params={"q": soql},
            headers={"Sforce-Query-Options": f"batchSize={batch_size}"},
        )
        return response.content

    def query_more(self, next_url: str, batch_size: int = MAX_BATCH_SIZE) -> bytes:
        """The page at a `nextRecordsUrl` (a path on the instance)."""
        response = self.http.request(
            "GET", next_url, operation=QUERY_MORE, headers={"Sforce-Query-Options": f"batchSize={batch_size}"}
        )
        return response.content

    def close(self) -> None:
        self.http.close()

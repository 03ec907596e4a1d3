"""What every Act-On endpoint shares on the wire: the error envelopes of each layer, and request bodies.

Act-On answers errors in a different shape per layer (api-protocols.md §3.6, from the published OpenAPI's
examples): the `/api/1` services `{"errorCode": int, "message": str}`, the API gateway in front of them (IBM API
Connect) `{"httpCode": "401", "httpMessage": "Unauthorized", "moreInformation": "…"}`, and `/token`
`{"error", "error_description"}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.parser import BytesParser
from email.policy import HTTP

from federation.emulation.server import Exchange, Reply, json_reply


class ApiError(Exception):
    """An `/api/1` error: HTTP status, Act-On's numeric errorCode and its message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def reply(self) -> Reply:
        return json_reply(self.status, {"errorCode": self.code, "message": self.message})


def gateway_reply(status: int, reason: str, more: str, headers: dict[str, str] | None = None) -> Reply:
    """The gateway's envelope: its codes are strings (as the gateway sends them)."""
    return json_reply(status, {"httpCode": str(status), "httpMessage": reason, "moreInformation": more}, headers)


def success(message: str, **extra: str) -> Reply:
    return json_reply(200, {"status": "success", "message": message, **extra})


def multipart(exchange: Exchange) -> dict[str, tuple[bytes, str | None]]:
    """The parts of a multipart/form-data body by name: (bytes, filename); form-encoded bodies are read too."""
    content_type = exchange.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        return {k: (v.encode(), None) for k, v in exchange.form().items()}
    if not content_type.startswith("multipart/form-data"):
        raise ApiError(400, 10003, "Input file missing")
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + exchange.body
    )
    parts: dict[str, tuple[bytes, str | None]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            payload = part.get_payload(decode=True)
            parts[name] = (payload if isinstance(payload, bytes) else b"", part.get_filename())
    return parts


def text(parts: dict[str, tuple[bytes, str | None]], name: str) -> str | None:
    found = parts.get(name)
    return found[0].decode("utf-8") if found is not None else None


def whole(params: Mapping[str, str], name: str, default: int, *, most: int | None = None) -> int:
    """A whole-number query parameter; Act-On refuses counts over its maximum."""
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, 10001, f"Invalid value for parameter {name}") from None
    if value < 0 or (most is not None and value > most):
        raise ApiError(400, 10001, f"Invalid value for parameter {name}")
    return value

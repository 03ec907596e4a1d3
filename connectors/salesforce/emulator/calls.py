"""The request value passed from the emulator to the REST resource handlers, and the error reply they share.

Handlers see a parsed `Call` and return a kit `Reply`; neither knows about sockets, so the HTTP layer alone
owns keep-alive, faults, latency and counting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from federation.emulation.server import Reply

from .errors import ApiError


@dataclass(frozen=True)
class Call:
    """One REST request under ``/services/data/vXX.X``: `parts` are the path segments after the version."""

    method: str
    parts: tuple[str, ...]
    params: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    prefix: str
    user_id: str

    def json(self) -> Any:
        """The request body as JSON, or the platform's JSON_PARSER_ERROR."""
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError as error:
            raise ApiError(400, "JSON_PARSER_ERROR", f"Unexpected character: {error}") from None

    def text(self) -> str:
        """The request body as text (for error positions)."""
        return self.body.decode("utf-8", "replace")


def error_reply(error: ApiError) -> Reply:
    """The response for a request that failed with `error`."""
    return Reply(error.status, orjson.dumps(error.body()))

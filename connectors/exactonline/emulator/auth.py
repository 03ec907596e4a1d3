"""Exact Online's tokens and errors in the emulator: the OAuth server with Exact's rules, the region and app each
token belongs to (tokens work only in the region that issued them; quotas count per app), and the error body
`{"error":{"code":"","message":{"lang":"","value":"…"}}}`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import orjson

from federation.emulation.clock import Clock
from federation.emulation.oauth import RFC_ERRORS, OAuthClient, OAuthServer, Refusal, TokenPolicy
from federation.emulation.server import Exchange, Reply, json_reply


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message

    def reply(self) -> Reply:
        return error_reply(self.status, self.message)


def error_reply(status: int, message: str) -> Reply:
    headers = {"WWW-Authenticate": 'Bearer realm="Exact Online"'} if status == 401 else {}
    return json_reply(status, {"error": {"code": "", "message": {"lang": "", "value": message}}}, headers)


class ExactOAuth(OAuthServer):
    """The kit's authorization server with Exact's refusal of an early refresh (ossobv `autorefresh.py` quotes
    the docs: 401 "Access Token not expired"; tap-exact saw this `error_description`), Exact's token reply, and
    which region and app each token was issued to."""

    errors: ClassVar[Mapping[Refusal, tuple[int, str, str]]] = {
        **RFC_ERRORS,
        Refusal.REFRESH_TOO_EARLY: (401, "invalid_request", "Rate limit exceeded: access_token not expired"),
    }

    def __init__(
        self, clients: Sequence[OAuthClient], users: Mapping[str, str], clock: Clock, policy: TokenPolicy
    ) -> None:
        super().__init__(clients, users, clock, policy)
        #: Token → (region that issued it, client id).
        self._issued: dict[str, tuple[str, str]] = {}
        self._issued_lock = threading.Lock()

    def app_of(self, exchange: Exchange) -> str:
        """The OAuth client whose token signs `exchange` (what Exact's quotas count per)."""
        token = exchange.headers.get("authorization", "").partition(" ")[2].strip()
        with self._issued_lock:
            return self._issued.get(token, ("", "unknown app"))[1]

    def grant(self, region: str, exchange: Exchange) -> Reply:
        """The token endpoint of `region`."""
        form = exchange.form()
        with self._issued_lock:
            used = self._issued.get(form.get("refresh_token", ""))
        if used is not None and used[0] != region:
            return json_reply(400, {"error": "invalid_grant", "error_description": "the token is for another region"})
        reply = self.token(exchange)
        if reply.status != 200:
            return reply
        token: dict[str, Any] = orjson.loads(reply.body)
        # Exact's token reply: expires_in as a string, token_type in lower case (ossobv `_set_tokens`).
        token["expires_in"], token["token_type"] = str(token.get("expires_in", 600)), "bearer"
        with self._issued_lock:
            for name in ("access_token", "refresh_token"):
                if name in token:
                    self._issued[token[name]] = (region, form.get("client_id", ""))
        return json_reply(200, token, reply.headers)

    def authenticate(self, region: str, exchange: Exchange) -> None:
        """Raise the API's 401 unless `exchange` carries a live token of `region`."""
        scheme, _, token = exchange.headers.get("authorization", "").partition(" ")
        with self._issued_lock:
            issued = self._issued.get(token.strip())
        if scheme.lower() != "bearer" or self.check(token.strip()) is None:
            raise ApiError(401, "Unauthorized: the access token is missing, invalid or expired")
        if issued is not None and issued[0] != region:
            raise ApiError(401, "Unauthorized: the access token was issued for another region")

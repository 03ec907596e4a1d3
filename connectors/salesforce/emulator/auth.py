"""The org's credentials and sessions: the kit's OAuth server with the platform's tokens, replies and errors.

The credentials are the vendors' documented placeholders. Access tokens (SOAP session Ids are the same thing)
end after `session_seconds` of inactivity, as the platform's session timeout does, or all at once by
`expire_all`. The password grant issues no refresh token; the authorization-code grant does, and refresh tokens
are not rotated. Token replies carry the platform's ``instance_url``, ``id``, ``signature`` and ``issued_at``
and no ``expires_in``; errors use the platform's codes and texts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import ClassVar

from federation.emulation.clock import Clock
from federation.emulation.oauth import RFC_ERRORS, Grant, OAuthClient, OAuthServer, Refusal, TokenPolicy
from federation.emulation.server import Json

USERNAME = "myUser"
PASSWORD = "myPassword"
SECURITY_TOKEN = "myToken"
CLIENT_ID = "MyOAuthClientId"
CLIENT_SECRET = "MyOAuthClientSecret"
#: Authorization codes live this long, as on the platform.
CODE_SECONDS = 15 * 60


class Auth(OAuthServer):
    """The org's one user (API user `user_id`), its sessions, refresh tokens and pending authorization codes."""

    errors: ClassVar[Mapping[Refusal, tuple[int, str, str]]] = {
        **RFC_ERRORS,
        Refusal.UNKNOWN_CLIENT: (400, "invalid_client_id", "client identifier invalid"),
        Refusal.BAD_CLIENT_SECRET: (400, "invalid_client", "invalid client credentials"),
        Refusal.BAD_CREDENTIALS: (400, "invalid_grant", "authentication failure"),
        Refusal.BAD_REFRESH_TOKEN: (400, "invalid_grant", "expired access/refresh token"),
        Refusal.BAD_CODE: (400, "invalid_grant", "invalid authorization code"),
        Refusal.BAD_CODE_VERIFIER: (400, "invalid_grant", "invalid code verifier"),
        Refusal.REDIRECT_MISMATCH: (400, "redirect_uri_mismatch", "redirect_uri must match configuration"),
        Refusal.UNSUPPORTED_RESPONSE_TYPE: (400, "unsupported_response_type", "response type not supported"),
        Refusal.BAD_CHALLENGE_METHOD: (400, "invalid_request", "invalid code_challenge_method"),
    }

    def __init__(self, org_id: str, user_id: str, session_seconds: int, clock: Clock) -> None:
        policy = TokenPolicy(
            access_seconds=None, idle_seconds=session_seconds, refresh_on_password=False, code_seconds=CODE_SECONDS
        )
        # The OAuth password grant takes the security token appended to the password, as SOAP login does.
        users = {USERNAME: PASSWORD + SECURITY_TOKEN}
        super().__init__([OAuthClient(CLIENT_ID, CLIENT_SECRET)], users, clock, policy)
        self.org_id = org_id
        self.user_id = user_id
        self.session_seconds = session_seconds

    def make_access_token(self) -> str:
        """An access token in the platform's shape: the org Id, ``!``, then an opaque secret."""
        return f"{self.org_id[:15]}!AQ{secrets.token_urlsafe(72)}"

    def make_refresh_token(self) -> str:
        return f"5Aep{secrets.token_urlsafe(64)}"

    def make_code(self) -> str:
        return f"aPrx{secrets.token_urlsafe(48)}"

    def new_session(self) -> str:
        """A session for the API user (SOAP login)."""
        return self.issue_access_token(USERNAME, CLIENT_ID)

    def session_user(self, token: str) -> str | None:
        """The user Id of a live session (extending it, as activity does), or None."""
        return self.user_id if self.check(token) is not None else None

    def token_fields(self, grant: Grant, base_url: str) -> dict[str, Json]:
        identity = f"{base_url}/id/{self.org_id}/{self.user_id}"
        issued_at = str(int(self.clock.wall() * 1000))
        signature = hmac.new(CLIENT_SECRET.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
        fields: dict[str, Json] = {
            "signature": base64.b64encode(signature).decode(),
            "instance_url": base_url,
            "id": identity,
            "issued_at": issued_at,
        }
        if grant.grant_type != "password":
            fields["scope"] = "api refresh_token"
        return fields

"""SCRAM-SHA-256 password authentication, the server's side (RFC 5802 and RFC 7677, as PostgreSQL runs it:
"SASL Authentication" in the protocol documentation).

The server keeps only the verifier (salt, StoredKey, ServerKey), derived once from the password file; the password
itself is never kept, logged or sent. PostgreSQL ignores the SCRAM user name (the startup message's user counts),
and duckfed offers no channel binding (SCRAM-SHA-256-PLUS), so a client's `n,,` or `y,,` header is accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

MECHANISM = "SCRAM-SHA-256"
ITERATIONS = 4096


class AuthenticationFailed(Exception):
    """The client's proof or messages were wrong; the text is safe to send and to log."""


def _hmac(key: bytes, text: bytes) -> bytes:
    return hmac.new(key, text, hashlib.sha256).digest()


@dataclass(frozen=True)
class Verifier:
    salt: bytes
    stored_key: bytes
    server_key: bytes

    @classmethod
    def from_password(cls, password: str) -> Verifier:
        salt = secrets.token_bytes(16)
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, ITERATIONS)
        client_key = _hmac(salted, b"Client Key")
        return cls(salt, hashlib.sha256(client_key).digest(), _hmac(salted, b"Server Key"))

    def __repr__(self) -> str:
        return "Verifier(…)"


def _attributes(text: str) -> dict[str, str]:
    found = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        if sep and len(name) == 1:
            found[name] = value
    return found


class Exchange:
    """One SCRAM exchange: `first` answers the client-first message, `final` checks the client-final message."""

    def __init__(self, verifier: Verifier) -> None:
        self.verifier = verifier
        self._client_first_bare = ""
        self._server_first = ""
        self._nonce = ""
        self._header = ""

    def first(self, client_first: str) -> str:
        header, sep, bare = client_first.partition(",")
        authzid, sep2, bare = bare.partition(",")
        if not sep or not sep2 or header not in ("n", "y"):
            raise AuthenticationFailed("malformed SCRAM client-first message (channel binding is not offered)")
        client_nonce = _attributes(bare).get("r")
        if not client_nonce:
            raise AuthenticationFailed("SCRAM client-first message without a nonce")
        self._header = f"{header},{authzid},"
        self._client_first_bare = bare
        self._nonce = client_nonce + base64.b64encode(secrets.token_bytes(18)).decode()
        salt = base64.b64encode(self.verifier.salt).decode()
        self._server_first = f"r={self._nonce},s={salt},i={ITERATIONS}"
        return self._server_first

    def final(self, client_final: str) -> str:
        """The server-final message, when the client's proof is right."""
        without_proof, sep, proof_part = client_final.rpartition(",p=")
        attributes = _attributes(without_proof)
        if not sep or attributes.get("r") != self._nonce:
            raise AuthenticationFailed("SCRAM nonce mismatch")
        if attributes.get("c") != base64.b64encode(self._header.encode()).decode():
            raise AuthenticationFailed("SCRAM channel binding mismatch")
        try:
            proof = base64.b64decode(proof_part, validate=True)
        except ValueError:
            raise AuthenticationFailed("malformed SCRAM proof") from None
        message = f"{self._client_first_bare},{self._server_first},{without_proof}".encode()
        signature = _hmac(self.verifier.stored_key, message)
        if len(proof) != len(signature):
            raise AuthenticationFailed("malformed SCRAM proof")
        client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
        if not hmac.compare_digest(hashlib.sha256(client_key).digest(), self.verifier.stored_key):
            raise AuthenticationFailed("wrong password")
        return "v=" + base64.b64encode(_hmac(self.verifier.server_key, message)).decode()

"""Which endpoint a request path addresses, named by the "kind" the emulator counts and injects faults by.

Login and OAuth live outside the versioned data API; everything under ``/services/data/vXX.X`` is routed by
`rest.route`. The kind is known before authentication, so even rejected requests are counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .rest import VERSIONS, route

_SOAP = re.compile(r"/services/Soap/([uc])/(\d+\.\d)/?")
_DATA = re.compile(r"/services/data/v(\d+\.\d)(/.*)?")
_OAUTH = {
    "/services/oauth2/token": "token",
    "/services/oauth2/authorize": "authorize",
    "/services/oauth2/userinfo": "userinfo",
    "/services/oauth2/revoke": "revoke",
}


@dataclass(frozen=True)
class Target:
    """What a request addresses: its kind, and for the data API the version and the path after it."""

    kind: str
    version: str = ""
    parts: tuple[str, ...] = ()
    soap_api: str = ""
    allowed: str | None = None

    @property
    def is_data(self) -> bool:
        """Whether this is a versioned data-API resource (which needs a session)."""
        return bool(self.version)


def target(method: str, path: str) -> Target:
    """Classify a request path (without its query string)."""
    if path.rstrip("/") == "/services/data":
        return Target("versions")
    data = _DATA.fullmatch(path)
    if data:
        version = data.group(1)
        if version not in VERSIONS:
            return Target("unknown")
        parts = tuple(part for part in (data.group(2) or "").split("/") if part)
        kind, allowed = route(method, parts)
        return Target(kind, version, parts, allowed=allowed)
    soap = _SOAP.fullmatch(path)
    if soap and soap.group(2) in VERSIONS:
        return Target("login", soap_api=soap.group(1), parts=(soap.group(2),))
    oauth = _OAUTH.get(path.rstrip("/"))
    if oauth:
        return Target(oauth)
    if path.startswith("/id/"):
        return Target("userinfo")
    return Target("unknown")

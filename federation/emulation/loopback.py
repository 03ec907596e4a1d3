"""Point a `requests`-based third-party client at an emulator without changing the client.

Vendor SDKs (simple-salesforce, …) hard-code the vendor's hosts. Most take a `requests.Session`; this module
builds one whose transport acts like a hosts-file entry: every URL, whatever its host, is served by the
emulator on 127.0.0.1. The original host stays in the `Host` header and `X-Forwarded-Proto` says how the client
spoke, so the emulator answers with URLs on the host the client asked for. Needs `requests` (installed with
such clients; nothing else imports this module).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from .server import LOOPBACK


class LoopbackAdapter(HTTPAdapter):
    """Sends every request to the emulator's loopback address, keeping the original host in `Host`."""

    def __init__(self, emulator_url: str) -> None:
        super().__init__()
        target = urlsplit(emulator_url)
        if target.hostname != LOOPBACK:
            raise ValueError(f"LoopbackAdapter only sends to {LOOPBACK}, not {target.hostname}")
        self._netloc = f"{LOOPBACK}:{target.port}"

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = urlsplit(request.url or "")
        request.headers["Host"] = url.netloc
        request.headers["X-Forwarded-Proto"] = url.scheme
        request.url = urlunsplit(("http", self._netloc, url.path, url.query, ""))
        return super().send(request, **kwargs)


def loopback_session(emulator_url: str) -> requests.Session:
    """A requests session whose every request, http or https, is served by the emulator at `emulator_url`."""
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment may see the traffic
    adapter = LoopbackAdapter(emulator_url)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session

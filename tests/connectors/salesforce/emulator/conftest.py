"""Fixtures for the emulator's protocol tests: a running emulator, a logged-in httpx client, and a requests
transport that lets simple-salesforce (which hard-codes ``https://*.salesforce.com``) reach it on loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import requests
from requests.adapters import HTTPAdapter

from connectors.salesforce.emulator import (
    CLIENT_ID,
    CLIENT_SECRET,
    PASSWORD,
    SECURITY_TOKEN,
    USERNAME,
    SalesforceEmulator,
)

V = "/services/data/v59.0"
RECORDS = 500


class LoopbackAdapter(HTTPAdapter):
    """A hosts-file entry for requests: every URL goes to the emulator's loopback address, whatever its host.

    The original host stays in the ``Host`` header and ``X-Forwarded-Proto: https`` says how the client spoke,
    so the emulator answers with instance URLs on the host the client asked for. Nothing leaves 127.0.0.1.
    """

    def __init__(self, emulator_url: str) -> None:
        super().__init__()
        target = urlsplit(emulator_url)
        if target.hostname != "127.0.0.1":
            raise ValueError(f"LoopbackAdapter only sends to 127.0.0.1, not {target.hostname}")
        self._netloc = f"127.0.0.1:{target.port}"

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = urlsplit(request.url or "")
        request.headers["Host"] = url.netloc
        request.headers["X-Forwarded-Proto"] = url.scheme
        request.url = urlunsplit(("http", self._netloc, url.path, url.query, ""))
        return super().send(request, **kwargs)


def loopback_session(emulator: SalesforceEmulator) -> requests.Session:
    """A requests session whose every request, http or https, is served by `emulator`."""
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment may see the traffic
    adapter = LoopbackAdapter(emulator.url)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def password_grant(client: httpx.Client, **overrides: str) -> httpx.Response:
    form = {
        "grant_type": "password",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "username": USERNAME,
        "password": PASSWORD + SECURITY_TOKEN,
    }
    return client.post("/services/oauth2/token", data=form | overrides)


@pytest.fixture(scope="module")
def emulator() -> Iterator[SalesforceEmulator]:
    """A Certinia emulator with RECORDS records per main object, shared by a test module."""
    with SalesforceEmulator("certinia", records=RECORDS) as running:
        yield running


@pytest.fixture(autouse=True)
def _no_leftover_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "emulator" in request.fixturenames:
        emulator = request.getfixturevalue("emulator")
        emulator.clear_faults()
        emulator.latency = 0.0


@pytest.fixture(scope="module")
def client(emulator: SalesforceEmulator) -> Iterator[httpx.Client]:
    """An httpx client logged in with the password grant (its Bearer token in every request)."""
    with httpx.Client(base_url=emulator.url, timeout=30) as plain:
        token = password_grant(plain).json()["access_token"]
    with httpx.Client(base_url=emulator.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as logged_in:
        yield logged_in


@pytest.fixture()
def anonymous(emulator: SalesforceEmulator) -> Iterator[httpx.Client]:
    """An httpx client without a session."""
    with httpx.Client(base_url=emulator.url, timeout=30) as plain:
        yield plain

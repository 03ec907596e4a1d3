"""Fixtures for the emulator's protocol tests: a running emulator and httpx clients with and without a session."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

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

"""Fixtures for the emulation kit's tests: a running toy emulator on a frozen clock, and httpx clients."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from federation.emulation.clock import Clock

from .toy import CLIENT, PASSWORD, USER, Toy


def password_grant(client: httpx.Client, **overrides: str) -> httpx.Response:
    form = {
        "grant_type": "password",
        "client_id": CLIENT.client_id,
        "client_secret": CLIENT.client_secret,
        "username": USER,
        "password": PASSWORD,
    }
    return client.post("/oauth/token", data=form | overrides)


@pytest.fixture()
def toy() -> Iterator[Toy]:
    """A toy emulator with ten records whose clock moves only when a test advances it."""
    with Toy(clock=Clock(frozen=True)) as running:
        yield running


@pytest.fixture()
def anonymous(toy: Toy) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=toy.url, timeout=10) as client:
        yield client


@pytest.fixture()
def client(toy: Toy) -> Iterator[httpx.Client]:
    """A client with a Bearer token from the password grant."""
    with httpx.Client(base_url=toy.url, timeout=10) as plain:
        token = password_grant(plain).json()["access_token"]
    with httpx.Client(base_url=toy.url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as logged_in:
        yield logged_in

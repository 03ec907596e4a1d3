"""Fixtures of the Exact Online tests: one small sandbox per module, and its connection properties."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from federation.sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(records=150, sources=["exactonline"]) as running:
        yield running

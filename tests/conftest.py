"""Suite-wide settings: a private metadata cache, and "no tests ran" counted as a failure."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

from federation.sandbox import Sandbox

# Set before any connector is built, so no test reads or writes the user's real cache.
_CACHE = tempfile.mkdtemp(prefix="duckfed-test-cache-")
os.environ["DUCKFED_CACHE_DIR"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # pytest exits 5 when it collected no tests; a suite that ran nothing must not pass.
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def sf_sandbox() -> Iterator[Sandbox]:
    """The FinancialForce and Certinia emulators with the default 1,000 records, shared by the session."""
    with Sandbox(records=1000, sources=["financialforce", "certinia"]) as running:
        yield running

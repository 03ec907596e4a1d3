"""The benchmark case: a plain httpx client scans 100,000 Accounts (every field) in 50 pages.

Run with ``-s`` to see the figures. Measured on the 2-CPU development machine: about 1 s to generate the
Accounts on first touch, then 2-3 s wall per scan, of which the emulator's own CPU (executing the query and
rendering 50 pages of ~2.2 MB) is about 0.7 s; the rest is the client reading and parsing 110 MB of JSON.
"""

from __future__ import annotations

import time

import httpx
import orjson
import pytest

from connectors.salesforce.emulator import SalesforceEmulator

from .conftest import V, password_grant

pytestmark = pytest.mark.slow


def test_scan_100k_accounts_following_next_records_url() -> None:
    with SalesforceEmulator("financialforce", records=100_000) as sf, httpx.Client(base_url=sf.url, timeout=60) as c:
        token = password_grant(c).json()["access_token"]
        c.headers["Authorization"] = f"Bearer {token}"
        fields = ",".join(field.name for field in sf.store.object("Account").fields)  # type: ignore[union-attr]
        started = time.perf_counter()
        sf.store.records("Account")
        generated = time.perf_counter() - started

        started = time.perf_counter()
        page = orjson.loads(c.get(f"{V}/query", params={"q": f"SELECT {fields} FROM Account"}).content)
        pages, records = 1, len(page["records"])
        while not page["done"]:
            page = orjson.loads(c.get(page["nextRecordsUrl"]).content)
            pages, records = pages + 1, records + len(page["records"])
        scanned = time.perf_counter() - started
    print(f"\ngenerate 100k Accounts: {generated:.2f} s; scan {records} records in {pages} pages: {scanned:.2f} s")
    assert (records, pages) == (100_000, 50)
    assert scanned < 20  # a regression guard with room for a loaded CI machine; see the docstring for figures

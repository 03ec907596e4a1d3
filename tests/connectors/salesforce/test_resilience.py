"""Retries, backoff, re-authentication and failures mid-scan, against faults injected into the emulator."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

import federation
from federation.errors import TransientError
from federation.sandbox import Sandbox


@pytest.fixture()
def emulator(sf_sandbox: Sandbox) -> Iterator[Any]:
    server = sf_sandbox.server("financialforce")
    yield server
    server.clear_faults()


def open_small_pages(sandbox: Sandbox, **extra: str) -> Any:
    props = {**sandbox.properties("financialforce"), "PageSize": "200", "scheme": "financialforce", **extra}
    con = federation.connect({"fin": props})
    con.execute("SELECT Id FROM fin.Account LIMIT 1").fetchall()  # log in and describe before faults are armed
    return con


def full_scan(con: Any) -> tuple[int, int]:
    result = con.execute("SELECT count(*), count(DISTINCT Id) FROM fin.Account").fetchone()
    assert result is not None
    return int(result[0]), int(result[1])


def test_a_server_error_on_a_page_is_retried(sf_sandbox: Sandbox, emulator: Any) -> None:
    with open_small_pages(sf_sandbox) as con:
        emulator.inject(503, times=2, kinds={"queryMore"}, retry_after=0)
        before = Counter(emulator.calls_by_kind)
        assert full_scan(con) == (1000, 1000)
        assert Counter(emulator.calls_by_kind) - before == {"query": 1, "queryMore": 4 + 2}  # two asked twice


def test_rate_limiting_is_waited_out(sf_sandbox: Sandbox, emulator: Any) -> None:
    with open_small_pages(sf_sandbox) as con:
        emulator.inject(429, times=1, kinds={"query"}, retry_after=1)
        assert full_scan(con) == (1000, 1000)


def test_a_dropped_connection_mid_scan_is_retried_without_duplicates(sf_sandbox: Sandbox, emulator: Any) -> None:
    with open_small_pages(sf_sandbox) as con:
        emulator.inject(drop=True, times=1, kinds={"queryMore"})
        assert full_scan(con) == (1000, 1000)


def test_an_expired_session_mid_scan_is_renewed_without_duplicates(sf_sandbox: Sandbox, emulator: Any) -> None:
    with open_small_pages(sf_sandbox) as con:
        reader = con.sql("SELECT Id FROM fin.Account").to_arrow_reader(200)
        seen = reader.read_next_batch().column(0).to_pylist()
        emulator.expire_sessions()
        for batch in reader:
            seen.extend(batch.column(0).to_pylist())
        assert len(seen) == len(set(seen)) == 1000


def test_a_page_that_keeps_failing_fails_the_query_with_our_error(sf_sandbox: Sandbox, emulator: Any) -> None:
    with open_small_pages(sf_sandbox, MaxRetries="2") as con:
        emulator.inject(500, times=10, kinds={"queryMore"})
        with pytest.raises(TransientError, match="queryMore"):
            full_scan(con)

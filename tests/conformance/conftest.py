"""The conformance suite's cases: every source whose sandbox spec carries a `ConformanceCase`.

Cases are found through the `duckfed.sandbox` entry points, so a connector joins the suite by giving its spec a
`conformance` case; nothing here names a connector. Each case gets two sandboxes of its own for the session:
`sandbox`, which no test changes (reads, faults, sessions, rate limits), so that one full local copy of the main
table (`full`) stays the truth for every differential check; and `scratch`, for the tests that change data
(records created and deleted mid-scan, writes, the secrets walk-through).
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pytest

from federation.sandbox import ConformanceCase, Sandbox

from .support import CASES, RECORDS, Differential, Source, local_copy


@pytest.fixture(scope="session", params=list(CASES))
def scheme(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def case(scheme: str) -> ConformanceCase:
    return CASES[scheme]


@pytest.fixture(scope="session")
def records() -> int:
    return RECORDS


@pytest.fixture(scope="session")
def sandbox(scheme: str) -> Iterator[Sandbox]:
    """The case's emulator for tests that change no data."""
    with Sandbox(records=RECORDS, sources=[scheme]) as running:
        yield running


@pytest.fixture(scope="session")
def scratch(scheme: str) -> Iterator[Sandbox]:
    """The case's emulator for tests that create, change and delete records."""
    with Sandbox(records=RECORDS, sources=[scheme]) as running:
        yield running


def _source(sandbox: Sandbox, scheme: str, case: ConformanceCase) -> Iterator[Source]:
    opened = Source(sandbox, scheme, case)
    try:
        yield opened
    finally:
        opened.close()
        # Faults and quotas a test armed must not reach the next test.
        opened.server.clear_faults()
        opened.server.set_quotas([])


@pytest.fixture()
def source(sandbox: Sandbox, scheme: str, case: ConformanceCase) -> Iterator[Source]:
    yield from _source(sandbox, scheme, case)


@pytest.fixture()
def scratch_source(scratch: Sandbox, scheme: str, case: ConformanceCase) -> Iterator[Source]:
    yield from _source(scratch, scheme, case)


@pytest.fixture(scope="session")
def shared(sandbox: Sandbox, scheme: str, case: ConformanceCase) -> Iterator[Source]:
    """Connections kept for the whole session (the full copy, the differential's pushed side)."""
    yield from _source(sandbox, scheme, case)


@pytest.fixture(scope="session")
def full(shared: Source) -> pa.Table:
    """The whole main table, read with pushdown off."""
    relation = shared.open(Pushdown="false").sql(f"SELECT * FROM {shared.table()}")
    assert relation is not None
    return relation.to_arrow_table()


@pytest.fixture(scope="session")
def differential(shared: Source, full: pa.Table) -> Iterator[Differential]:
    local = local_copy(shared.case.table, full)
    try:
        yield Differential(shared.open(), local)
    finally:
        local.close()

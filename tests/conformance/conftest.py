"""The conformance suite's sources: every connector runs the same tests against its sandbox emulator.

A later connector joins the suite by adding a `Case` to `CASES`: its scheme, a main table with enough rows,
and that table's key column.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

import federation
from federation.connection import Connection
from federation.sandbox import Sandbox


@dataclass(frozen=True)
class Case:
    scheme: str
    table: str
    key: str
    #: A page size property that makes the main table span several pages at the suite's record count.
    small_pages: dict[str, str]


CASES = [
    Case("financialforce", "Account", "Id", {"PageSize": "200"}),
    Case("certinia", "pse__Proj__c", "Id", {"PageSize": "200"}),
]
#: Records per main object: a few pages at the smallest page size, and a page boundary not on a round number.
RECORDS = 1013


@pytest.fixture(scope="session", params=CASES, ids=lambda case: case.scheme)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def records() -> int:
    return RECORDS


@pytest.fixture(scope="session")
def sandbox(case: Case) -> Iterator[Sandbox]:
    with Sandbox(records=RECORDS, sources=[case.scheme]) as running:
        yield running


class Connections:
    """Opens connections to the case's sandbox with extra properties (pushdown off, small pages, …)."""

    def __init__(self, sandbox: Sandbox, case: Case) -> None:
        self.sandbox = sandbox
        self.case = case
        self.opened: list[Connection] = []
        self._pair: tuple[Connection, Connection] | None = None

    def open(self, **properties: str) -> Connection:
        props = {**self.sandbox.properties(self.case.scheme), **properties, "scheme": self.case.scheme}
        con = federation.connect({"src": props})
        self.opened.append(con)
        return con

    def pair(self) -> tuple[Connection, Connection]:
        """One connection with pushdown and one without, opened once per test."""
        if self._pair is None:
            self._pair = (self.open(), self.open(Pushdown="false"))
        return self._pair

    def calls(self) -> int:
        return self.sandbox.calls(self.case.scheme)


@pytest.fixture()
def connections(sandbox: Sandbox, case: Case) -> Iterator[Connections]:
    opened = Connections(sandbox, case)
    yield opened
    for con in opened.opened:
        con.close()

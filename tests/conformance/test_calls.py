"""The call-count matrix: every source's `ConformanceCase.calls`, run on a warm connection (logged in, metadata
cached) against a sandbox of `CALL_RECORDS` records, must spend exactly the calls it declares, never fewer than
the theoretical minimum (ceil(rows needed / the largest page the API serves)), and more only for a reason the
case states; and its rows must be exactly those DuckDB computes without pushdown. `benchmarks/calls.py` prints the
same table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import federation
from federation.sandbox import CALL_RECORDS, CallCase, Sandbox
from federation.statements import referenced_tables

from .support import CASES, UNTHROTTLED

#: The shapes every matrix covers (issue 12's "Done means").
SHAPES = (
    "point lookup",
    "range",
    "IN list longer than one chunk",
    "LIMIT",
    "top-N",
    "count",
    "GROUP BY text",
    "GROUP BY number",
    "selective join",
    "join on a non-pushable filter",
    "LIKE prefix",
)


@pytest.fixture(scope="module", params=[s for s, c in CASES.items() if c.calls])
def matrix(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    scheme = str(request.param)
    with Sandbox(records=CALL_RECORDS, sources=[scheme]) as sandbox:
        opened = Matrix(sandbox, scheme, tmp_path_factory.mktemp(f"calls-{scheme}"))
        try:
            yield opened
        finally:
            opened.close()


class Matrix:
    """One source's sandbox, a warm connection with pushdown and one without."""

    def __init__(self, sandbox: Sandbox, scheme: str, cache: Path) -> None:
        self.sandbox, self.scheme = sandbox, scheme
        self.cases = CASES[scheme].calls
        # The vendor's quotas (Exact's 60 calls a minute) would only make the run wait; the calls are what counts.
        sandbox.server(scheme).set_quotas([])
        props = {**UNTHROTTLED, **sandbox.properties(scheme), "scheme": scheme, "MetadataCacheDir": str(cache)}
        self.pushed = federation.connect({"src": props})
        self.local = federation.connect({"src": {**props, "Pushdown": "false"}})
        for con in (self.pushed, self.local):
            for case in self.cases:
                for schema, table in referenced_tables(case.sql or ""):
                    con.execute(
                        f'SELECT * FROM "{schema}"."{table}" LIMIT 1'
                    ).fetchall()  # log in, describe, pick the division: warm

    def spent(self, case: CallCase) -> tuple[int, Counter[tuple[object, ...]]]:
        """The calls `case` costs with pushdown, after checking its rows against DuckDB's own."""
        assert case.sql is not None
        server = self.sandbox.server(self.scheme)
        before = server.calls
        rows = Counter(_hashable(r) for r in self.pushed.execute(case.sql).fetchall())
        calls = server.calls - before
        expected = Counter(_hashable(r) for r in self.local.execute(case.sql).fetchall())
        assert rows == expected, f"{self.scheme} {case.shape}: pushdown changed the rows of {case.sql}"
        return calls, rows

    def close(self) -> None:
        for con in (self.pushed, self.local):
            con.close()


def _hashable(row: tuple[object, ...]) -> tuple[object, ...]:
    return tuple(repr(v) if isinstance(v, dict | list) else v for v in row)


def test_every_shape_is_in_the_matrix(matrix: Matrix) -> None:
    assert [c.shape for c in matrix.cases] == list(SHAPES)


def test_the_calls_are_the_declared_ones_and_the_minimum_or_a_reason(matrix: Matrix) -> None:
    found: list[str] = []
    for case in matrix.cases:
        assert case.calls >= case.minimum >= 0, f"{case.shape}: fewer calls than the minimum can't be declared"
        assert case.calls == case.minimum or case.reason, f"{case.shape}: more calls than the minimum needs a reason"
        if case.sql is None:
            assert case.reason, f"{case.shape}: a shape the source can't ask says why"
            continue
        calls, rows = matrix.spent(case)
        if calls != case.calls:
            found.append(f"{case.shape}: {calls} calls, declared {case.calls} ({case.sql[:120]})")
        assert rows, f"{case.shape}: the sandbox data gives the statement rows, so the check proves something"
    assert not found, f"{matrix.scheme}: " + "; ".join(found)


def test_a_warm_repeat_costs_the_same(matrix: Matrix) -> None:
    # Metadata stays cached: a statement run again costs its data calls and nothing more.
    case = next(c for c in matrix.cases if c.shape == "selective join")
    assert case.sql is not None
    assert matrix.spent(case)[0] == case.calls
    assert matrix.spent(case)[0] == case.calls

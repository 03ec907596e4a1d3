"""API calls spent per query shape, for every source with a call-count matrix (`ConformanceCase.calls`).

    python benchmarks/calls.py [--source template]

Runs each source's matrix on its emulator (the sandbox's `CALL_RECORDS` records per table) with a warm connection
(logged in, metadata cached) and prints one row per shape: the calls it cost with pushdown, the theoretical
minimum (ceil(rows needed / the largest page the API serves)), the calls without pushdown, and why a shape costs
more than the minimum. `tests/conformance/test_calls.py` asserts the same numbers. Then, per source, what a first
query costs a new connection with an empty metadata cache and with a warm one.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from importlib.metadata import entry_points

import federation
from federation.sandbox import CALL_RECORDS, GROUP, ConformanceCase, Sandbox, SandboxServer, SandboxSpec
from federation.statements import referenced_tables

#: The emulators' own rate limits would only slow the run down; the calls are what is counted.
UNTHROTTLED = {"RateLimit": "10000/second"}


def _cases() -> dict[str, ConformanceCase]:
    found = {}
    for entry in entry_points(group=GROUP):
        spec = entry.load()
        if isinstance(spec, SandboxSpec) and spec.conformance is not None:
            found[entry.name] = spec.conformance
    return dict(sorted(found.items()))


CASES = _cases()


def spent(server: SandboxServer, action: Callable[[], object]) -> int:
    before = server.calls
    action()
    return server.calls - before


def matrix(scheme: str) -> list[tuple[str, ...]]:
    """The rows of one source's table."""
    cases = CASES[scheme].calls
    rows: list[tuple[str, ...]] = []
    with Sandbox(records=CALL_RECORDS, sources=[scheme]) as sandbox, tempfile.TemporaryDirectory() as cache:
        server = sandbox.server(scheme)
        server.set_quotas([])  # the vendor's quotas would only make the run wait; the calls are what counts
        props = {**UNTHROTTLED, **sandbox.properties(scheme), "scheme": scheme, "MetadataCacheDir": cache}
        with (
            federation.connect({"src": props}) as pushed,
            federation.connect({"src": {**props, "Pushdown": "false"}}) as off,
        ):
            for con in (pushed, off):
                for case in cases:
                    for schema, table in referenced_tables(case.sql or ""):
                        con.execute(f'SELECT * FROM "{schema}"."{table}" LIMIT 1').fetchall()
            for case in cases:
                if case.sql is None:
                    rows.append((scheme, case.shape, "-", str(case.minimum), "-", case.reason))
                    continue
                sql = case.sql
                on = spent(server, lambda sql=sql: pushed.execute(sql).fetchall())
                without = spent(server, lambda sql=sql: off.execute(sql).fetchall())
                rows.append((scheme, case.shape, str(on), str(case.minimum), str(without), case.reason))
        first = next(c.sql for c in cases if c.sql is not None)

        def first_query() -> None:
            with federation.connect({"src": props}) as con:
                con.execute(first).fetchall()

        with tempfile.TemporaryDirectory() as empty:
            cold = spent(server, lambda: _with_cache(props, empty, first))
        warm = spent(server, first_query)
        rows.append((scheme, "first query, new connection, empty cache", str(cold), "-", "-", ""))
        rows.append((scheme, "first query, new connection, warm cache", str(warm), "-", "-", ""))
    return rows


def _with_cache(props: dict[str, str], cache: str, sql: str) -> None:
    with federation.connect({"src": {**props, "MetadataCacheDir": cache}}) as con:
        con.execute(sql).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", action="append", help="a source's scheme (default: every one with a matrix)")
    args = parser.parse_args()
    schemes = args.source or [s for s, c in CASES.items() if c.calls]
    rows = [row for scheme in schemes for row in matrix(scheme)]
    header = ("source", "query", "calls", "minimum", "no pushdown", "why more than the minimum")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    print(f"API calls per query on a warm connection ({CALL_RECORDS} records per table)\n")
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[5])


if __name__ == "__main__":
    main()

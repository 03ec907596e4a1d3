"""EXPLAIN that shows the API calls: after DuckDB's plan, one row per scan of a source table naming the request it
will make (the connector's `Table.describe_request`: SOQL text, a URL) and how many calls it is expected to take,
all before any data call.

DuckDB plans an EXPLAIN as it plans the statement, asking each source which filters it `accepts`; those answers
(kept by the source) are the filters the scan will send, and the planner's hints (`federation.planner`) say which
limits, orders and aggregates the API will compute.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from federation.bridge import AggregateSource, TableSource
from federation.keyed import DriverSource, KeyedFetch
from federation.planner_sql import Scope
from federation.predicates import conjunction
from federation.statements import explained, parse
from federation.table import ScanRequest, TableInfo

#: The key of EXPLAIN's added rows (DuckDB's own are `physical_plan`, …).
KEY = "api_request"


def describe(label: str, source: TableSource | AggregateSource | DriverSource, sql: str) -> str:
    """One scan's request and its expected calls, as EXPLAIN shows them."""
    if isinstance(source, DriverSource):
        driver = source.driver_rows.driver
        info = driver.table.info
        columns = driver.columns or tuple(c.name for c in info.columns)
        request = driver.table.describe_request(ScanRequest(columns, driver.pushed))
        return f"{label}: {request} | read once, its keys fetch the join's other side"
    if isinstance(source, AggregateSource):
        table = source.pushed.table
        request = table.describe_request(source.pushed.request)
        return f"{label}: {request} | 1 call (a scan instead if the API can't give DuckDB's exact answer)"
    info = source.table.info
    accepted = list(source.accepted or ())
    scan = ScanRequest(columns_read(sql, info), conjunction(accepted + list(source.narrowing)))
    hint = source.hint
    if hint is not None and hint.applies(accepted, info):
        scan = ScanRequest(scan.columns, scan.predicate, hint.limit, hint.order_by)
    if isinstance(source.fetch, KeyedFetch):
        return f"{label}: {source.table.describe_request(scan)} {source.fetch.describe(info)}"
    calls = source.table.expected_calls(scan, source.known_rows)
    bound = "at most " if scan.predicate is not None and scan.limit is None else ""
    counted = (
        f"{bound}about {calls} call{'s' if calls != 1 else ''}" if calls is not None else "calls unknown (no row count)"
    )
    return f"{label}: {source.table.describe_request(scan)} | {counted}"


def columns_read(sql: str, info: TableInfo) -> tuple[str, ...]:
    """The table's columns a statement names (all of them where it selects `*`), in the table's order."""
    statements = parse(explained(sql) or sql)
    scope = Scope(info, info.name)
    named: set[str] = set()
    for statement in statements:
        if any(isinstance(s, exp.Star) and not isinstance(s.parent, exp.Count) for s in statement.find_all(exp.Star)):
            return tuple(c.name for c in info.columns)
        for column in statement.find_all(exp.Column):
            found = scope.column(exp.column(column.name))
            if found is not None:
                named.add(found.name)
    return tuple(c.name for c in info.columns if c.name in named)


def rows(plan: Sequence[tuple[str, str]], requests: Sequence[str]) -> tuple[list[str], list[str]]:
    """DuckDB's EXPLAIN rows followed by the API requests, as (keys, values) columns."""
    return [k for k, _ in plan] + [KEY] * len(requests), [v for _, v in plan] + list(requests)

"""The DuckDB source each per-statement plan item (`federation.planner.Planned`) is registered as: a scan with a
limit hint or extra pushed predicates, a pushed aggregate, or the two sides of a join by key."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from federation.bridge import AggregateSource, TableSource
from federation.cancel import Statement
from federation.failures import Failures
from federation.keyed import DriverRows, DriverSource, KeyedFetch
from federation.planner import Planned, TopN
from federation.planner_aggregates import PushedAggregate
from federation.planner_joins import JoinDriver, KeyedScan

#: A registered per-statement source.
Source = TableSource | AggregateSource | DriverSource


def source_for(
    planned: Planned,
    registered: Mapping[str, object],
    *,
    failures: Failures,
    statement: Statement,
    stale: Callable[[], None],
    rows: int | None = None,
) -> Source:
    """The source for `planned`; a keyed scan finds its driver, registered before it, in `registered`. `rows` is
    the table's row count as a full scan last found it, if one did (a keyed scan weighs its keys against it)."""
    if isinstance(planned, PushedAggregate):
        return AggregateSource(planned, pushdown=True, failures=failures, statement=statement, stale=stale)
    if isinstance(planned, JoinDriver):
        return DriverSource(DriverRows(planned), failures=failures, statement=statement, stale=stale)
    fetch = None
    if isinstance(planned, KeyedScan):
        driver = registered[planned.driver]
        assert isinstance(driver, DriverSource), "a keyed scan's driver is registered first"
        fetch = KeyedFetch(planned, driver.driver_rows, rows)
    return TableSource(
        planned.table,
        name=planned.name,
        pushdown=True,
        failures=failures,
        statement=statement,
        stale=stale,
        hint=planned.hint if isinstance(planned, TopN) else None,
        narrowing=() if isinstance(planned, TopN) else planned.narrowing,
        fetch=fetch,
    )

"""COUNT(*) pushed to every source that declares it (SOQL, Intacct `<count>`, Exact `$count`, Act-On `totalCount`,
the template's aggregate endpoint) counts exactly the rows DuckDB counts: the whole table, one key, no row at all
(still one row, 0), and a filter the API can't state (the engine then counts a scan)."""

from __future__ import annotations

import pyarrow as pa

from federation.sandbox import ConformanceCase
from federation.table import Aggregate

from .support import SCHEMA, Differential, quoted, table_sql


def test_counts_are_duckdbs(differential: Differential, case: ConformanceCase, full: pa.Table) -> None:
    info = differential.pushed.federation.sources[SCHEMA].table(case.table).info
    table, key = table_sql(case.table), quoted(case.key)
    first = full.column(case.key)[0].as_py()
    literal = str(first) if isinstance(first, int) else "'" + str(first).replace("'", "''") + "'"
    statements = [
        f"SELECT count(*) FROM {table}",
        f"SELECT count(*) FROM {table} WHERE {key} = {literal}",
        f"SELECT count(*) FROM {table} WHERE {key} IS NULL",
        f"SELECT count(*) + 1 AS n FROM {table} HAVING count(*) > 0",
    ]
    for sql in statements:
        [(count, *_)] = differential.check(sql)
        assert isinstance(count, int)
    planned = differential.pushed._planner.plan(statements[0]).sql
    assert ("__duckfed_agg" in planned) == (Aggregate.COUNT in info.aggregates)
    assert differential.check(statements[0]) == [(len(full),)]

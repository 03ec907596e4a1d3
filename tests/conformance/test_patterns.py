"""String patterns (`LIKE`, `starts_with`): the planner hands them to every source whose text columns declare
`Operator.LIKE`, each connector spells them in its own query language, and the rows are always exactly DuckDB's,
for hostile text (quotes, backslashes, the wildcards themselves, query syntax, unicode) and every case variant: the
APIs' patterns are case-insensitive (SOQL, OData), lack an escape character (Intacct) or take only a prefix
(OData, the template), so only a superset may reach DuckDB, never fewer rows."""

from __future__ import annotations

import pyarrow as pa
import pytest

from federation.emulation.pools import HOSTILE_TEXT
from federation.predicates import Operator
from federation.sandbox import ConformanceCase

from .support import SCHEMA, Differential, Source, quoted, table_sql


def _sql_text(value: str) -> str:
    """`value` as a DuckDB string literal."""
    return "'" + value.replace("'", "''") + "'"


def _patterns(value: str) -> list[str]:
    """Conditions on a column (`{c}`) built from `value`: prefixes (its own `%` and `_` are wildcards there, or
    escaped), a substring, a starts_with, in the value's own case and in others."""
    head = value[:4]
    escaped = head.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    found = []
    for text in dict.fromkeys([head, head.upper(), head.lower()]):
        found += ["{c} LIKE " + _sql_text(text + "%"), "starts_with({c}, " + _sql_text(text) + ")"]
    found += [
        f"{{c}} LIKE {_sql_text(escaped + '%')} ESCAPE '!'",
        f"{{c}} LIKE {_sql_text('%' + value[1:3] + '%')}",
        f"{{c}} LIKE {_sql_text(head + '_%')}",
        f"{{c}} LIKE {_sql_text(value)}",
    ]
    return found


def _pattern_column(differential: Differential, case: ConformanceCase) -> str:
    info = differential.pushed.federation.sources[SCHEMA].table(case.table).info
    column = info.column(case.hostile_column)
    if Operator.LIKE not in column.pushdown:
        pytest.skip(f"{case.table}.{column.name} declares no pattern pushdown (the API can't filter it by pattern)")
    return column.name


def test_hostile_patterns_give_duckdbs_rows(differential: Differential, case: ConformanceCase, full: pa.Table) -> None:
    name = _pattern_column(differential, case)
    present = sorted(set(full.column(name).to_pylist()) & set(HOSTILE_TEXT))
    assert len(present) >= 3
    select = f"SELECT {quoted(case.key)} FROM {table_sql(case.table)} WHERE "
    matched = 0
    for value in HOSTILE_TEXT:
        for condition in _patterns(value):
            sql = select + condition.replace("{c}", quoted(name))
            matched += bool(differential.check(sql))
            assert "_duckfed_" in differential.pushed._planner.plan(sql).sql, f"{sql} was not pushed"
    assert matched > 10  # the patterns do find rows


def test_a_prefix_costs_only_the_pages_it_matches(source: Source, case: ConformanceCase, full: pa.Table) -> None:
    con = source.warm()
    info = con.federation.sources[SCHEMA].table(case.table).info
    if Operator.LIKE not in info.column(case.hostile_column).pushdown:
        pytest.skip(f"{case.table}.{case.hostile_column} declares no pattern pushdown")
    present = set(full.column(case.hostile_column).to_pylist()) & set(HOSTILE_TEXT)
    value = sorted(v for v in present if v[:1].isalpha())[0]
    before = source.calls()
    rows = con.execute(
        f"SELECT {quoted(case.key)} FROM {source.table()} WHERE {quoted(case.hostile_column)} LIKE "
        f"{_sql_text(value[:5] + '%')}"
    ).fetchall()
    assert 0 < len(rows) < case.page_size
    assert source.calls() - before == 1  # fewer rows than a page: one call, where a scan reads several pages

"""Reads: the declared schema, and pushdown that never changes a result (the differential checks).

Every pushed statement must return exactly the rows plain DuckDB computes over a full local copy of the table,
for every operator each column declares, for NULLs, and for hostile text (quotes, backslashes, LIKE wildcards,
query-language syntax, unicode, case variants, leading and trailing spaces) that an escaping bug or an API's own
comparison rules (case-insensitive, trimming) would get wrong. Random predicate trees finish the job.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from federation.emulation.pools import HOSTILE_TEXT
from federation.predicates import Operator
from federation.sandbox import ConformanceCase
from federation.table import Column, TableInfo

from .support import CASES, SCHEMA, Differential, Source, quoted, table_sql

_SQL_OPS = {
    Operator.EQ: "=",
    Operator.NE: "!=",
    Operator.LT: "<",
    Operator.LE: "<=",
    Operator.GT: ">",
    Operator.GE: ">=",
}
_NULL_CHECKS = frozenset({Operator.IS_NULL, Operator.IS_NOT_NULL})


def test_sources_join_the_suite_by_entry_point() -> None:
    # An empty suite would pass silently; the Salesforce profiles at least declare a case.
    assert CASES, "no duckfed.sandbox entry point declares a ConformanceCase"


def info_of(differential: Differential, case: ConformanceCase) -> TableInfo:
    return differential.pushed.federation.sources[SCHEMA].table(case.table).info


def test_schema_is_stable_and_matches_the_declared_columns(source: Source, case: ConformanceCase) -> None:
    first, second = source.open(), source.open()
    described = first.execute(f"DESCRIBE {source.table()}").fetchall()
    assert described == second.execute(f"DESCRIBE {source.table()}").fetchall()
    info = first.federation.sources[SCHEMA].table(case.table).info
    assert [row[0] for row in described] == [c.name for c in info.columns]
    assert info.column(case.key).name == case.key
    relation = first.sql(f"SELECT * FROM {source.table()} LIMIT 5")
    assert relation is not None
    scanned = relation.to_arrow_table()
    assert [(f.name, _plain(f.type)) for f in scanned.schema] == [(c.name, _plain(c.type)) for c in info.columns]


def _plain(kind: pa.DataType) -> pa.DataType:
    # DuckDB names the UTC zone Etc/UTC on the way out; the instant type is the same.
    if pa.types.is_timestamp(kind) and kind.tz in ("UTC", "Etc/UTC"):
        return pa.timestamp(kind.unit, tz="UTC")
    return kind


def test_the_key_is_unique(full: pa.Table, case: ConformanceCase, records: int) -> None:
    keys = full.column(case.key).to_pylist()
    assert len(keys) >= records
    assert None not in keys and len(set(keys)) == len(keys)


def test_projection_order_is_the_requested_order(source: Source, case: ConformanceCase, full: pa.Table) -> None:
    names = full.schema.names
    chosen = [names[-1], names[0], names[len(names) // 2]]
    columns = ", ".join(quoted(name) for name in chosen)
    relation = source.open().sql(f"SELECT {columns} FROM {source.table()} ORDER BY {quoted(case.key)}")
    assert relation is not None
    got = relation.to_arrow_table()
    assert got.schema.names == chosen
    assert got.equals(full.sort_by(case.key).select(chosen))


def _sample_values(column: pa.ChunkedArray) -> list[Any]:
    values = [v for v in column.to_pylist() if v is not None]
    if not values:
        return []
    ordered = sorted(set(values), key=repr) if not isinstance(values[0], str) else sorted(set(values))
    picks = {ordered[0], ordered[len(ordered) // 2], ordered[-1], values[0]}
    return sorted(picks, key=repr)


def _pushable(info: TableInfo) -> Iterator[tuple[Column, Operator]]:
    for column in info.columns:
        for op in sorted(column.pushdown, key=lambda o: o.value):
            yield column, op


def test_every_declared_operator_gives_the_same_rows(
    differential: Differential, case: ConformanceCase, full: pa.Table
) -> None:
    key, table = quoted(case.key), table_sql(case.table)
    checked: set[tuple[str, Operator]] = set()
    unchecked: set[tuple[str, Operator]] = set()
    for column, op in _pushable(info_of(differential, case)):
        name = quoted(column.name)
        values = _sample_values(full.column(column.name))
        if op in _SQL_OPS:
            for value in values:
                differential.check(f"SELECT {key} FROM {table} WHERE {name} {_SQL_OPS[op]} $1", [value])
        elif op in (Operator.IN, Operator.NOT_IN) and values:
            word = "IN" if op is Operator.IN else "NOT IN"
            marks = ", ".join(f"${i + 1}" for i in range(len(values)))
            differential.check(f"SELECT {key} FROM {table} WHERE {name} {word} ({marks})", values)
        elif op in _NULL_CHECKS:
            differential.check(f"SELECT {key} FROM {table} WHERE {name} {op.value}")
        (checked if values or op in _NULL_CHECKS else unchecked).add((column.name, op))
    # Only columns without a single non-null value can't be compared with a value.
    assert all(not full.column(name).drop_null() for name, _ in unchecked)
    assert len(checked) > 20


def _hostile_variants(value: str) -> list[str]:
    """`value` and the near-misses an API's own rules confuse with it: case, and spaces at either end."""
    return list(dict.fromkeys([value, value.upper(), value.lower(), value.strip(), f"{value} ", f" {value}"]))


def test_hostile_text_reaches_the_api_intact(differential: Differential, case: ConformanceCase, full: pa.Table) -> None:
    column = info_of(differential, case).column(case.hostile_column)
    assert pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
    assert column.pushdown - _NULL_CHECKS, f"{case.hostile_column} pushes no comparison, so the check proves nothing"
    present = set(full.column(case.hostile_column).to_pylist()) & set(HOSTILE_TEXT)
    assert len(present) >= 3, f"{case.hostile_column} should be seeded with HOSTILE_TEXT values; found {present}"
    key, name, table = quoted(case.key), quoted(case.hostile_column), table_sql(case.table)
    select = f"SELECT {key} FROM {table} WHERE"
    for value in HOSTILE_TEXT:
        for variant in _hostile_variants(value):
            found = differential.check(f"{select} {name} = $1", [variant])
            assert found or variant not in present
        differential.check(f"{select} {name} != $1", [value])
    for value in sorted(present)[:6]:
        differential.check(f"{select} {name} < $1", [value])
        differential.check(f"{select} {name} >= $1", [value])
        differential.check(f"{select} {name} LIKE $1", [value[:3] + "%"])
    marks = ", ".join(f"${i + 1}" for i in range(len(HOSTILE_TEXT)))
    differential.check(f"{select} {name} IN ({marks})", list(HOSTILE_TEXT))
    differential.check(f"{select} {name} NOT IN ({marks})", list(HOSTILE_TEXT))
    # Values written into the statement, not bound: the same escaping must hold.
    for value in HOSTILE_TEXT:
        differential.check(f"{select} {name} = {_literal_sql(value)}")


def test_nulls_follow_sql_rules(differential: Differential, case: ConformanceCase, full: pa.Table) -> None:
    nullable = [n for n in full.schema.names if 0 < full.column(n).null_count < len(full)]
    assert nullable, "the sandbox data has partly-null columns"
    key, table = quoted(case.key), table_sql(case.table)
    for name in nullable[:8]:
        column = quoted(name)
        values = _sample_values(full.column(name))
        got = differential.check(f"SELECT {key} FROM {table} WHERE {column} IS NULL")
        assert len(got) == full.column(name).null_count
        # Neither = nor != matches a NULL row, in DuckDB or through the API.
        equal = differential.check(f"SELECT {key} FROM {table} WHERE {column} = $1", values[:1])
        other = differential.check(f"SELECT {key} FROM {table} WHERE NOT ({column} = $1)", values[:1])
        assert len(equal) + len(other) + full.column(name).null_count == len(full)
        differential.check(f"SELECT {key} FROM {table} WHERE {column} IS DISTINCT FROM $1", values[:1])


# -- the differential property test ----------------------------------------------------------------------------


def _literal_sql(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime.datetime):
        return f"TIMESTAMPTZ '{value.isoformat()}'"
    if isinstance(value, datetime.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, datetime.time):
        return f"TIME '{value.isoformat()}'"
    if isinstance(value, decimal.Decimal | int | float):
        return repr(value) if isinstance(value, float) else str(value)
    raise TypeError(value)


_COMPARABLE = (
    pa.types.is_string,
    pa.types.is_large_string,
    pa.types.is_integer,
    pa.types.is_floating,
    pa.types.is_decimal,
    pa.types.is_boolean,
    pa.types.is_date,
    pa.types.is_time,
    pa.types.is_timestamp,
)


def predicates(full: pa.Table, hostile_column: str) -> st.SearchStrategy[str]:
    usable = [
        n
        for n in full.schema.names
        if any(check(full.schema.field(n).type) for check in _COMPARABLE) and _sample_values(full.column(n))
    ]

    @st.composite
    def leaf(draw: st.DrawFn) -> str:
        name = draw(st.sampled_from(usable))
        values = [v for v in full.column(name).to_pylist() if v is not None]
        pool = [*values[:50], values[-1], *(HOSTILE_TEXT if name == hostile_column else ())]
        value = draw(st.sampled_from(pool))
        if isinstance(value, str):
            # Near-misses: an API that compares case-insensitively or trims spaces returns them too, and the
            # local re-check must drop them.
            value = draw(st.sampled_from([value, value.upper(), value.lower(), value + "'", "%" + value[1:]]))
            value = draw(st.sampled_from([value, value.strip(), value + " "]))
        kind = draw(st.sampled_from(["cmp", "in", "null"]))
        column = quoted(name)
        if kind == "null":
            return f"{column} IS {draw(st.sampled_from(['', 'NOT ']))}NULL"
        if kind == "in":
            extra = draw(st.sampled_from(values[:50]))
            word = draw(st.sampled_from(["IN", "NOT IN"]))
            return f"{column} {word} ({_literal_sql(value)}, {_literal_sql(extra)})"
        op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">="]))
        return f"{column} {op} {_literal_sql(value)}"

    return st.recursive(
        leaf(),
        lambda inner: st.one_of(
            st.tuples(inner, inner).map(lambda p: f"({p[0]} AND {p[1]})"),
            st.tuples(inner, inner).map(lambda p: f"({p[0]} OR {p[1]})"),
            inner.map(lambda p: f"NOT ({p})"),
        ),
        max_leaves=4,
    )


def test_random_predicates_give_the_rows_duckdb_computes(
    differential: Differential, case: ConformanceCase, full: pa.Table
) -> None:
    select = f"SELECT {quoted(case.key)} FROM src.{quoted(case.table)} WHERE"

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(predicates(full, case.hostile_column))
    def check(where: str) -> None:
        differential.check(f"{select} {where}")

    check()

"""Spark's pushed filters (`pyspark.sql.datasource.Filter`) as federation predicates.

Spark hands a data source the conjuncts of a WHERE clause it could express as filters; each one that names a
column of the table with a value of the column's own type becomes a predicate, and the table's connector pushes
the part of it the API can evaluate (`federation.predicates.pushable`), as it does under a DuckDB scan. The
reader then tells Spark to evaluate every filter itself too (`DataSourceReader.pushFilters` allows returning
"partially pushed" filters), so a superset from the API — SOQL's case-insensitive `=`, a value the API can't
state — never changes a result: results with pushdown equal results without it.

What doesn't translate is simply not pushed: string prefix/suffix/contains filters (no predicate of ours states
them), `<=>` (its NOT isn't the NOT of `=`), nested columns, and values whose Python type isn't the column's
(a naive datetime for a UTC timestamp column: Spark's session time zone would decide what it means).
"""

from __future__ import annotations

import datetime
import decimal

import pyarrow as pa
from pyspark.sql import datasource as spark

from federation.errors import UnknownColumnError
from federation.predicates import Comparison, InList, IsNull, Not, Operator, Predicate
from federation.table import TableInfo

_COMPARISONS: dict[type[spark.Filter], Operator] = {
    spark.EqualTo: Operator.EQ,
    spark.GreaterThan: Operator.GT,
    spark.GreaterThanOrEqual: Operator.GE,
    spark.LessThan: Operator.LT,
    spark.LessThanOrEqual: Operator.LE,
}


def translate(item: spark.Filter, info: TableInfo) -> Predicate | None:
    """The predicate a Spark filter states over `info`'s columns, or None when it can't be stated exactly."""
    if isinstance(item, spark.Not):
        inner = translate(item.child, info)
        return None if inner is None else Not(inner)
    column = _column(item, info)
    if column is None:
        return None
    name, kind = column
    operator = _COMPARISONS.get(type(item))
    if operator is not None:
        value = getattr(item, "value", None)
        return Comparison(name, operator, _utc(value)) if _fits(value, kind) else None
    if isinstance(item, spark.In):
        # NULL in an IN list never makes it true, so leaving it out states the same rows.
        values = tuple(v for v in item.value if v is not None)
        return InList(name, tuple(map(_utc, values))) if values and all(_fits(v, kind) for v in values) else None
    if isinstance(item, spark.IsNull | spark.IsNotNull):
        return IsNull(name, negated=isinstance(item, spark.IsNotNull))
    return None


def _utc(value: object) -> object:
    """Timestamps as `federation.predicates` carries them: in UTC."""
    return value.astimezone(datetime.UTC) if isinstance(value, datetime.datetime) else value


def _column(item: spark.Filter, info: TableInfo) -> tuple[str, pa.DataType] | None:
    path = getattr(item, "attribute", None)
    if not isinstance(path, tuple) or len(path) != 1:
        return None
    try:
        found = info.column(str(path[0]))
    except UnknownColumnError:
        return None
    return found.name, found.type


def _fits(value: object, kind: pa.DataType) -> bool:
    """Whether `value` is a value of an Arrow column of type `kind`, as `federation.predicates` carries them."""
    if value is None:
        return False
    if pa.types.is_boolean(kind):
        return isinstance(value, bool)
    if pa.types.is_integer(kind):
        return isinstance(value, int) and not isinstance(value, bool)
    if pa.types.is_floating(kind):
        return isinstance(value, float)
    if pa.types.is_decimal(kind):
        return isinstance(value, decimal.Decimal) or (isinstance(value, int) and not isinstance(value, bool))
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return isinstance(value, str)
    if pa.types.is_timestamp(kind):
        return isinstance(value, datetime.datetime) and value.tzinfo is not None and kind.tz is not None
    if pa.types.is_date(kind):
        return isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)
    return False

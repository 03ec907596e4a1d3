"""Pushed aggregates as SOQL: `SELECT COUNT() …` for a row count, `SELECT g, COUNT(Id), SUM(f) … GROUP BY g` for
groups, with the result read back exactly or not at all.

The planner asks only what DuckDB would answer the same way (no text groups: SOQL groups text
case-insensitively), and this module refuses the rest, so the engine scans instead:
- a WHERE clause SOQL can't state exactly (a datetime with fractions of a second is bracketed, a malformed Id
  dropped, `= null` on a boolean also matches false): an aggregate's rows are never re-checked;
- fields describe doesn't list as groupable or aggregatable (the API would refuse the query);
- more than `MAX_GROUPS` groups: aggregate queries have no queryMore, so the API can't return them all;
- a SUM or MIN/MAX the API returns with more digits than a double carries exactly (15) or more decimals than the
  field's scale (the API reports aggregate numbers as doubles: `expr0: 348606952000.0`).
"""

from __future__ import annotations

import datetime
import decimal
import json
from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa

from connectors.salesforce.soql import MAX_ENCODED_QUERY, compile_where, encoded_length, states_exactly
from federation.table import Aggregate, AggregateCall, AggregateRequest, Column

#: Aggregate queries return at most this many rows, all in one response (no queryMore).
MAX_GROUPS = 2000
#: Significant digits a double holds exactly, whatever the value.
_DOUBLE_DIGITS = 15
_FUNCTIONS = {
    Aggregate.COUNT: "COUNT",
    Aggregate.COUNT_COLUMN: "COUNT",
    Aggregate.SUM: "SUM",
    Aggregate.MIN: "MIN",
    Aggregate.MAX: "MAX",
}


def compile_aggregate(
    object_name: str, request: AggregateRequest, columns: Callable[[str], Column], fields: Mapping[str, Any]
) -> str | None:
    """The SOQL statement for `request`, or None when SOQL can't compute exactly that (see the module's notes).
    `fields` are describe's field descriptions by name (for `groupable` and `aggregatable`)."""
    where = ""
    if request.predicate is not None:
        if not states_exactly(request.predicate, columns):
            return None
        where = compile_where(request.predicate, columns) or ""
    for name in request.group_by:
        if not fields[columns(name).api_name].get("groupable"):
            return None
    items = [columns(name).api_name for name in request.group_by]
    for position, call in enumerate(request.calls):
        if call.column is None:
            argument = "Id"
        else:
            field = fields[columns(call.column).api_name]
            if call.function is not Aggregate.COUNT_COLUMN and not field.get("aggregatable"):
                return None
            argument = columns(call.column).api_name
        items.append(f"{_FUNCTIONS[call.function]}({argument}) a{position}")
    if request.calls == (AggregateCall(Aggregate.COUNT),) and not request.group_by:
        items = ["COUNT()"]  # the count alone, in totalSize, however many rows
    soql = f"SELECT {', '.join(items)} FROM {object_name}" + (f" WHERE {where}" if where else "")
    if request.group_by:
        # One more than fits: its presence says the answer is incomplete.
        soql += f" GROUP BY {', '.join(items[: len(request.group_by)])} LIMIT {MAX_GROUPS + 1}"
    return soql if encoded_length(soql) <= MAX_ENCODED_QUERY else None


def read_aggregate(
    body: bytes, request: AggregateRequest, schema: pa.Schema, columns: Callable[[str], Column]
) -> pa.Table | None:
    """The groups of a query response as a table of `schema`, or None when they aren't all there or aren't exact."""
    parsed = json.loads(body, parse_float=decimal.Decimal)
    if not request.group_by and request.calls == (AggregateCall(Aggregate.COUNT),):
        return pa.table([pa.array([int(parsed["totalSize"])], pa.int64())], schema=schema)
    records = parsed["records"]
    if not parsed.get("done", True) or len(records) > MAX_GROUPS:
        return None
    # A grouped field comes back under its API name (in the case describe gives), an aggregate under its alias.
    keys = [
        *(columns(name).api_name.lower() for name in request.group_by),
        *(f"a{i}" for i in range(len(request.calls))),
    ]
    rows = [{k.lower(): v for k, v in record.items()} for record in records]
    arrays = []
    for key, field in zip(keys, schema, strict=True):
        converted = [_value(row.get(key), field.type) for row in rows]
        if any(c is _INEXACT for c in converted):
            return None
        arrays.append(pa.array(converted, field.type))
    return pa.table(arrays, schema=schema)


_INEXACT = object()


def _value(value: Any, kind: pa.DataType) -> Any:
    """A value of the response as the Arrow type wants it, `_INEXACT` when the double the API sent may not be it."""
    if value is None:
        return None
    if pa.types.is_decimal(kind) or pa.types.is_integer(kind):
        number = decimal.Decimal(value) if not isinstance(value, decimal.Decimal) else value
        scale = kind.scale if pa.types.is_decimal(kind) else 0
        digits = number.normalize().as_tuple()
        exponent = digits.exponent if isinstance(digits.exponent, int) else 0
        if len(digits.digits) > _DOUBLE_DIGITS or -exponent > scale:
            return _INEXACT
        return int(number) if pa.types.is_integer(kind) else number.quantize(decimal.Decimal(1).scaleb(-scale))
    if pa.types.is_date(kind):
        return datetime.date.fromisoformat(value)
    if pa.types.is_timestamp(kind):
        return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    return value

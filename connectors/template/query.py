"""The template API's query compiler: a scan request as list-records parameters, values escaped by JSON.

Pure functions, tested against fixture files (`tests/connectors/template/fixtures/`). The `where` parameter is a
JSON tree (see `emulator/where.py` for the API's semantics), so every value is escaped by the JSON encoder and a
hostile string can't change the filter's meaning. What the API can't take — a float that isn't finite (JSON has
no NaN) — is widened away: the engine re-applies the exact predicate to every row anyway.
"""

from __future__ import annotations

import datetime
import decimal
import math
from typing import Any

import orjson

from federation.predicates import SHORT_NAMES, And, Comparison, InList, IsNull, Like, Or, Predicate

_OPS = SHORT_NAMES


def literal(value: object) -> Any | None:
    """The JSON value the API compares with, or None when it can't be sent exactly."""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            return None
        return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return None


def compile_where(predicate: Predicate | None, names: dict[str, str]) -> dict[str, Any] | None:
    """The `where` tree for a predicate in negation normal form (columns renamed to API fields by `names`),
    or None when nothing narrows the request."""
    if predicate is None:
        return None
    match predicate:
        case And(operands=operands):
            parts = [p for p in (compile_where(o, names) for o in operands) if p is not None]
            return None if not parts else parts[0] if len(parts) == 1 else {"and": parts}
        case Or(operands=operands):
            alternatives = [compile_where(o, names) for o in operands]
            if any(p is None for p in alternatives):
                return None  # one alternative can't narrow: neither can the OR
            return {"or": alternatives}
        case Comparison(column=column, op=op, value=value):
            sent = literal(value)
            return None if sent is None else {"field": names[column], "op": _OPS[op], "value": sent}
        case InList(column=column, values=values, negated=negated):
            sent_values = [literal(v) for v in values]
            if any(v is None for v in sent_values):
                # NOT IN without one of its values would drop rows that value's absence lets through.
                return None
            test = {"field": names[column], "op": "in", "value": sent_values}
            return {"not": test} if negated else test
        case IsNull(column=column, negated=negated):
            return {"field": names[column], "op": "notnull" if negated else "null"}
        case Like(column=column):
            # Every string a pattern matches begins with the pattern's literal head: `startswith` it, exactly
            # so for `text%`.
            head = predicate.prefix
            return {"field": names[column], "op": "startswith", "value": head} if head else None
    raise TypeError(f"not in negation normal form: {predicate!r}")


def states_exactly(predicate: Predicate | None) -> bool:
    """Whether `compile_where` sends all of `predicate` (nothing widened away), so the API's first rows, or its
    groups, are exactly those of the predicate."""
    match predicate:
        case None | IsNull():
            return True
        case And(operands=parts) | Or(operands=parts):
            return all(states_exactly(p) for p in parts)
        case Comparison(value=value):
            return literal(value) is not None
        case InList(values=values):
            return all(literal(v) is not None for v in values)
        case Like():
            return predicate.is_prefix
    return False


def aggregate_params(group: list[str], measures: list[str], where: dict[str, Any] | None) -> dict[str, str]:
    """Query parameters for the aggregate endpoint."""
    params = {"group": ",".join(group), "measures": ",".join(measures)}
    if where is not None:
        params["where"] = orjson.dumps(where).decode()
    return params


def page_params(
    fields: list[str], where: dict[str, Any] | None, *, order: str, limit: int, offset: int = 0
) -> dict[str, str]:
    """Query parameters for one page of list-records."""
    params = {"fields": ",".join(fields), "order": order, "limit": str(limit), "offset": str(offset)}
    if where is not None:
        params["where"] = orjson.dumps(where).decode()
    return params

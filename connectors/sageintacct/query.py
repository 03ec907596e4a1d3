"""The `query` function's request, compiled from a scan: selected fields, the `<filter>` XML, order and paging.

Pure functions with fixture-file tests (`tests/connectors/sageintacct/fixtures/`). Every value reaches the XML
through `xml.sax.saxutils.escape`, so a hostile string can't change the filter's meaning; what XML 1.0 can't
carry (control characters, a carriage return that a parser would turn into a newline) or the gateway can't
compare exactly (a timestamp with fractions of a second, a year before 1000) is widened away — the engine
re-applies the exact predicate to every row anyway. The operators are the documented ones
(developer.intacct.com/web-services/queries; api-protocols.md §1.6): equalto, notequalto, lessthan,
lessthanorequalto, greaterthan, greaterthanorequalto, in/notin (1 to 1000 values: longer lists are split),
isnull/isnotnull, like (`%` and `_` wildcards, no escape character), and/or (at least two operands each).
Aggregates (`<count>`, `<sum>`, `<min>`, `<max>`) are `<select>` elements beside the fields they are grouped by
(`aggregates.py` decides which are exact).
"""

from __future__ import annotations

import datetime
import decimal
import math
import re
import zoneinfo
from collections.abc import Callable, Sequence
from xml.sax.saxutils import escape

from federation.predicates import And, Comparison, InList, IsNull, Like, Operator, Or, Predicate

MAX_IN = 1000
_OPS = {
    Operator.EQ: "equalto",
    Operator.NE: "notequalto",
    Operator.LT: "lessthan",
    Operator.LE: "lessthanorequalto",
    Operator.GT: "greaterthan",
    Operator.GE: "greaterthanorequalto",
}
#: Characters XML 1.0 can't carry, and the carriage return its parsers normalise away.
_UNSENDABLE = re.compile("[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\ufffe\uffff]")


def literal(value: object, zone: zoneinfo.ZoneInfo) -> str | None:
    """The gateway's text for `value` (parameter formats, api-protocols.md §1.10), or None when it can't be
    sent exactly."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(decimal.Decimal(value), "f") if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return format(value, "f") if value.is_finite() else None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None or value.microsecond:
            return None  # the gateway keeps whole seconds: a fraction matches nothing it can be sent as
        local = value.astimezone(zone)
        return None if local.year < 1000 else local.strftime("%m/%d/%Y %H:%M:%S")
    if isinstance(value, datetime.date):
        return None if value.year < 1000 else value.strftime("%m/%d/%Y")
    if isinstance(value, str):
        return None if _UNSENDABLE.search(value) else value
    return None


def _leaf(tag: str, field: str, values: Sequence[str] = ()) -> str:
    return (
        f"<{tag}><field>{escape(field)}</field>" + "".join(f"<value>{escape(v)}</value>" for v in values) + f"</{tag}>"
    )


def _join(tag: str, parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"<{tag}>{''.join(parts)}</{tag}>"


def compile_filter(predicate: Predicate | None, field_of: Callable[[str], str], zone: zoneinfo.ZoneInfo) -> str | None:
    """The operator element for a predicate in negation normal form (columns named by `field_of`), or None when
    nothing narrows the request."""
    if predicate is None:
        return None
    match predicate:
        case And(operands=operands):
            parts = [p for p in (compile_filter(o, field_of, zone) for o in operands) if p is not None]
            return _join("and", parts) if parts else None
        case Or(operands=operands):
            alternatives = [compile_filter(o, field_of, zone) for o in operands]
            if any(p is None for p in alternatives):
                return None  # one alternative can't narrow: neither can the OR
            return _join("or", [p for p in alternatives if p is not None])
        case Comparison(column=column, op=op, value=value):
            sent = literal(value, zone)
            return None if sent is None else _leaf(_OPS[op], field_of(column), [sent])
        case InList(column=column, values=values, negated=negated):
            texts = [literal(v, zone) for v in values]
            if any(t is None for t in texts):
                # NOT IN without one of its values would drop rows that value's absence lets through; IN
                # without it would drop the rows it matches.
                return None
            given = [t for t in texts if t is not None]
            chunks = [given[i : i + MAX_IN] for i in range(0, len(given), MAX_IN)]
            tag = "notin" if negated else "in"
            return _join("and" if negated else "or", [_leaf(tag, field_of(column), c) for c in chunks])
        case IsNull(column=column, negated=negated):
            return _leaf("isnotnull" if negated else "isnull", field_of(column))
        case Like(column=column):
            # `like` has no escape character: a literal `%` or `_` is sent as `_`, which matches it (and any other
            # one character), so the gateway returns a superset.
            pattern = predicate.spelled(lambda text: text.replace("%", "_"))
            return None if _UNSENDABLE.search(pattern) else _leaf("like", field_of(column), [pattern])
    raise TypeError(f"not in negation normal form: {predicate!r}")


def states_exactly(predicate: Predicate | None, zone: zoneinfo.ZoneInfo) -> bool:
    """Whether `compile_filter` sends all of `predicate` (no value widened away), so the gateway's rows, or its
    groups, are exactly those of the predicate."""
    match predicate:
        case None | IsNull():
            return True
        case And(operands=parts) | Or(operands=parts):
            return all(states_exactly(p, zone) for p in parts)
        case Comparison(value=value):
            return literal(value, zone) is not None
        case InList(values=values):
            return all(literal(v, zone) is not None for v in values)
    return False


def query(
    obj: str,
    fields: Sequence[str],
    where: str | None,
    *,
    page_size: int,
    order_by: str | None = None,
    offset: int = 0,
    aggregates: Sequence[tuple[str, str]] = (),
) -> str:
    """The `<query>` element for one page; `aggregates` are (function, field) pairs (`count`, `RECORDNO`), with
    `fields` then grouping them."""
    select = "".join(f"<field>{escape(f)}</field>" for f in fields) + "".join(
        f"<{function}>{escape(f)}</{function}>" for function, f in aggregates
    )
    parts = [f"<object>{escape(obj)}</object><select>{select}</select>"]
    if where is not None:
        parts.append(f"<filter>{where}</filter>")
    if order_by is not None:
        parts.append(f"<orderby><order><field>{escape(order_by)}</field><ascending/></order></orderby>")
    parts.append(f"<pagesize>{page_size}</pagesize><offset>{offset}</offset>")
    return f"<query>{''.join(parts)}</query>"

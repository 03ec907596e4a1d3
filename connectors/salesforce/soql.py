"""The SOQL compiler: a scan request as a SOQL statement, every value escaped and typed as SOQL wants it.

Pure functions, tested against fixture files (`tests/connectors/salesforce/fixtures/soql/`). The predicate it
receives is in negation normal form and already limited to operators the columns can push; what SOQL can't
express for a particular value (a datetime with fractional seconds, a float that isn't finite) is widened, never
narrowed, because the engine re-applies the exact predicate to every row: compiling to `None` means "all rows".
"""

from __future__ import annotations

import datetime
import decimal
import math
import re
import urllib.parse
from collections.abc import Callable, Sequence

from connectors.salesforce.types import IDS
from federation.predicates import And, Comparison, InList, IsNull, Like, Operator, Or, Predicate
from federation.table import Column

#: The shape of a record Id: 15 case-sensitive or 18 case-insensitive-safe alphanumeric characters.
_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")

#: Bytes the URL-encoded `q` parameter may take. The API caps the URI and headers of a request together at 16,384
#: bytes (414/431 past that: help.salesforce.com "Maximum number of rows returned by SOQL queries over the REST
#: API", article 000386264); the rest is left for the path and headers (the session id alone is ~110 bytes).
MAX_ENCODED_QUERY = 12_000

_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def quote(text: str) -> str:
    """A SOQL string literal: backslash escapes for the reserved and control characters, nothing else."""
    return "'" + _body(text) + "'"


def _body(text: str) -> str:
    """The inside of `quote(text)` (its escapes never produce `%` or `_`)."""
    out: list[str] = []
    for ch in text:
        escaped = _ESCAPES.get(ch)
        if escaped is not None:
            out.append(escaped)
        elif ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def literal(value: object) -> str | None:
    """`value` as a SOQL literal, or None when SOQL has no exact literal for it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return format(decimal.Decimal(repr(value)), "f")
    if isinstance(value, decimal.Decimal):
        return format(value, "f") if value.is_finite() else None
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None or value.microsecond:
            return None
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return None


def compile_where(predicate: Predicate, columns: Callable[[str], Column]) -> str | None:
    """The SOQL condition for `predicate`, or None for "no condition" (every row)."""
    match predicate:
        case And(operands=operands):
            parts = [p for p in (compile_where(o, columns) for o in operands) if p is not None]
            return _join(parts, "AND")
        case Or(operands=operands):
            alternatives = [compile_where(o, columns) for o in operands]
            if any(p is None for p in alternatives):
                return None
            return _join([p for p in alternatives if p is not None], "OR")
        case IsNull(column=name, negated=negated):
            return f"{columns(name).api_name} {'!=' if negated else '='} null"
        case InList(column=name, values=values, negated=negated):
            column = columns(name)
            if column.native_type in IDS:
                # SOQL refuses a malformed Id ("invalid ID field"); such a value matches no record anyway.
                values = tuple(v for v in values if isinstance(v, str) and _ID.fullmatch(v))
                if not values:
                    return None
            return _membership(column.api_name, values, negated)
        case Comparison(column=name, op=op, value=value):
            column = columns(name)
            if column.native_type in IDS and not (isinstance(value, str) and _ID.fullmatch(value)):
                return None
            return _comparison(column.api_name, op, value)
        case Like(column=name):
            # SOQL's LIKE takes `%` and `_` as wildcards and `\%`, `\_` as those characters; it compares without
            # regard to case, so it returns a superset of DuckDB's case-sensitive LIKE (developer.salesforce.com
            # "Comparison Operators", soql_sosl/sforce_api_calls_soql_select_comparisonoperators.htm).
            return f"{columns(name).api_name} LIKE {_like(predicate)}"
    raise TypeError(f"not a pushable predicate: {predicate!r}")


def _like(predicate: Like) -> str:
    """The pattern as a SOQL string literal: the literal text's own `%` and `_` escaped with a backslash."""
    return "'" + predicate.spelled(lambda text: _body(text).replace("%", "\\%").replace("_", "\\_")) + "'"


def _join(parts: list[str], word: str) -> str | None:
    if not parts:
        return None
    # SOQL refuses AND and OR at one level without parentheses, so every compound is parenthesised.
    return parts[0] if len(parts) == 1 else "(" + f" {word} ".join(parts) + ")"


def _comparison(field: str, op: Operator, value: object) -> str | None:
    text = literal(value)
    if text is not None:
        return f"{field} {op.value} {text}"
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        # SOQL datetimes have whole seconds; bracket the instant by the seconds around it.
        floor = value.replace(microsecond=0)
        low, high = literal(floor), literal(floor + datetime.timedelta(seconds=1))
        if op is Operator.EQ:
            return f"({field} >= {low} AND {field} <= {high})"
        if op in (Operator.LT, Operator.LE):
            return f"{field} <= {high}"
        if op in (Operator.GT, Operator.GE):
            return f"{field} >= {low}"
    return None


def _membership(field: str, values: Sequence[object], negated: bool) -> str | None:
    texts = [literal(v) for v in values]
    if negated:
        # Leaving a value out of NOT IN only widens the result.
        kept = [t for t in texts if t is not None]
        return f"{field} NOT IN ({', '.join(kept)})" if kept else None
    if any(t is None for t in texts):
        return None
    return f"{field} IN ({', '.join(t for t in texts if t is not None)})"


def encoded_length(soql: str) -> int:
    """Bytes the statement takes in the URL's query string (UTF-8, percent-encoded: a CJK character is 9)."""
    return len(urllib.parse.quote_plus(soql))


def compile_select(
    object_name: str,
    fields: Sequence[str],
    predicate: Predicate | None,
    columns: Callable[[str], Column],
    *,
    limit: int | None = None,
    order_by: Sequence[tuple[str, bool, bool]] = (),
) -> str:
    """`SELECT fields FROM object [WHERE …] [ORDER BY …] [LIMIT n]` in one statement that fits the URL: conjuncts
    that don't fit are dropped (widening), never truncated."""
    return compile_selects(object_name, fields, predicate, columns, limit=limit, order_by=order_by, split=False)[0]


def compile_selects(
    object_name: str,
    fields: Sequence[str],
    predicate: Predicate | None,
    columns: Callable[[str], Column],
    *,
    limit: int | None = None,
    order_by: Sequence[tuple[str, bool, bool]] = (),
    split: bool = True,
) -> list[str]:
    """Statements whose results together are the scan's rows, each fitting the URL length limit.

    `order_by` holds (field, descending, nulls first) keys. An IN list too long for one URL is split into chunks,
    one statement each (their results are disjoint: a row has one value), and then neither order nor limit is
    sent: a top-N of the union isn't the union of top-Ns; what still doesn't fit is dropped from the WHERE
    (widening), never truncated.
    """
    head = f"SELECT {', '.join(fields)} FROM {object_name}"
    keys = ", ".join(
        f"{field} {'DESC' if descending else 'ASC'} NULLS {'FIRST' if first else 'LAST'}"
        for field, descending, first in order_by
    )
    tail = (f" ORDER BY {keys}" if keys else "") + (f" LIMIT {int(limit)}" if limit is not None else "")

    if predicate is not None and not states_exactly(predicate, columns):
        tail = ""  # the API's first rows of a wider set may not hold the first rows that match

    def statement(where: str | None) -> str:
        return head + (f" WHERE {where}" if where is not None else "") + tail

    if predicate is None:
        return [statement(None)]
    operands: list[Predicate] = list(predicate.operands) if isinstance(predicate, And) else [predicate]
    while operands:
        where = compile_where(And(tuple(operands)), columns)
        if where is None or encoded_length(statement(where)) <= MAX_ENCODED_QUERY:
            return [statement(where)]
        longest = max(operands, key=lambda o: encoded_length(compile_where(o, columns) or ""))
        if split and isinstance(longest, InList) and not longest.negated:
            rest = [o for o in operands if o is not longest]
            chunks = _chunks(longest, rest, columns, statement)
            if chunks is not None:
                return chunks
        # The rest still narrows; the engine filters the difference locally, so no order or limit is sent.
        operands.remove(longest)
        tail = ""
    return [statement(None)]


def states_exactly(predicate: Predicate, columns: Callable[[str], Column]) -> bool:
    """Whether `compile_where` states `predicate` without widening it: every value has an exact literal, Ids are
    well formed, and no `IS NULL` of a boolean (SOQL reads `= null` as `= false` there)."""
    match predicate:
        case And(operands=parts) | Or(operands=parts):
            return all(states_exactly(p, columns) for p in parts)
        case IsNull(column=name):
            return columns(name).native_type != "boolean"
        case Comparison(value=value):
            return literal(value) is not None and compile_where(predicate, columns) is not None
        case InList(values=values):
            return all(literal(v) is not None for v in values) and compile_where(predicate, columns) is not None
    return False


def _chunks(
    listed: InList, rest: list[Predicate], columns: Callable[[str], Column], statement: Callable[[str | None], str]
) -> list[str] | None:
    """One statement per run of `listed`'s values that fits with the `rest` of the conjuncts, or None when even a
    single value doesn't fit."""
    values = list(dict.fromkeys(listed.values))  # a value listed twice would return its rows twice

    def fitting(first: int, end: int) -> str | None:
        where = compile_where(And((InList(listed.column, tuple(values[first:end])), *rest)), columns)
        soql = statement(where)
        return soql if where is not None and encoded_length(soql) <= MAX_ENCODED_QUERY else None

    found: list[str] = []
    first = 0
    while first < len(values):
        best = fitting(first, first + 1)
        if best is None:
            return None
        low, high = first + 1, len(values)  # the longest run that fits ends in [low, high]
        while low < high:
            middle = (low + high + 1) // 2
            trial = fitting(first, middle)
            if trial is None:
                high = middle - 1
            else:
                low, best = middle, trial
        found.append(best)
        first = low
    return found

"""The OData `$filter` compiler: a pushed predicate as Exact Online filter text, every value escaped.

Pure functions, tested against fixture files (`tests/connectors/exactonline/fixtures/filter.txt`). Literal forms
are the ones Exact's clients send (api-protocols §2.6): `'text'` with a quote doubled, `guid'…'`,
`datetime'2024-05-01T10:00:00'`, `true`/`false`, `12`, `12L` for Int64, and numbers in plain decimal notation.
`IN` becomes `or`-ed `eq`s and `NOT IN` `and`-ed `ne`s (the API has no `in`), `IS NULL` is `eq null`, and a
LIKE pattern `startswith(Name,'text')` (`text%`, or the literal text any pattern starts with) or
`substringof('text',Name)` (`%text%`): the OData v2 string functions (odata.org "URI Conventions (OData Version
2.0)" §4.5; api-protocols §2.6 lists both among the functions clients send). Exact compares text without regard to
case, so both return a superset of DuckDB's LIKE.

What a value can't say exactly is widened away (the engine re-checks every row): a guid that isn't one, a
non-finite number, an integer outside its Edm type. The operators each type may push, and why the result is a
superset of DuckDB's, are decided in `types.py`; this module only spells them.
"""

from __future__ import annotations

import datetime
import decimal
import math
import uuid

from federation.predicates import SHORT_NAMES, And, Comparison, InList, IsNull, Like, Operator, Or, Predicate

_OPS = SHORT_NAMES
_RANGES = {"Edm.Byte": (0, 255), "Edm.Int16": (-(2**15), 2**15 - 1), "Edm.Int32": (-(2**31), 2**31 - 1)}
_RANGES["Edm.Int64"] = (-(2**63), 2**63 - 1)


def literal(edm: str, value: object, *, exact: bool = False) -> str | None:
    """`value` as an OData literal for a property of type `edm`, or None when it can't be sent.

    `exact` asks for a literal the API compares exactly as DuckDB does (needed where a looser match would
    drop rows, as `ne` does): guids only in their canonical lower-case form."""
    if edm == "Edm.String":
        return "'" + value.replace("'", "''") + "'" if isinstance(value, str) else None
    if edm == "Edm.Guid":
        if not isinstance(value, str):
            return None
        try:
            canonical = str(uuid.UUID(value))
        except ValueError:
            return None
        return None if exact and canonical != value else f"guid'{canonical}'"
    if edm == "Edm.Boolean":
        return ("true" if value else "false") if isinstance(value, bool) else None
    if edm in _RANGES:
        low, high = _RANGES[edm]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return None
        return f"{value}L" if edm == "Edm.Int64" else str(value)
    if edm == "Edm.Double":
        return _number(value)
    if edm == "Edm.DateTime":
        return _datetime(value)
    return None


def _number(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # The shortest repr round-trips to the same double; written without an exponent.
        return format(decimal.Decimal(repr(value)), "f") if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return format(value, "f") if value.is_finite() else None
    return None


def _datetime(value: object) -> str | None:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        text = value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
        return f"datetime'{text}'"
    if isinstance(value, datetime.date):
        return f"datetime'{value.isoformat()}'"
    return None


def compile_filter(predicate: Predicate | None, types: dict[str, tuple[str, str]]) -> str | None:
    """`$filter` text for a predicate in negation normal form, or None when nothing narrows the request.

    `types` maps each column to (its API name, its Edm type)."""
    if predicate is None:
        return None
    match predicate:
        case And(operands=operands):
            parts = [p for p in (compile_filter(o, types) for o in operands) if p is not None]
            return None if not parts else parts[0] if len(parts) == 1 else " and ".join(_group(p) for p in parts)
        case Or(operands=operands):
            alternatives = [compile_filter(o, types) for o in operands]
            if any(p is None for p in alternatives):
                return None  # one alternative can't narrow: neither can the OR
            return " or ".join(_group(p) for p in alternatives if p is not None)
        case Comparison(column=column, op=op, value=value):
            name, edm = types[column]
            sent = literal(edm, value, exact=op is Operator.NE)
            return None if sent is None else f"{name} {_OPS[op]} {sent}"
        case InList(column=column, values=values, negated=negated):
            name, edm = types[column]
            sent_values = [literal(edm, v, exact=negated) for v in values]
            if negated:
                # Leaving out a value of NOT IN only widens it; with none left it narrows nothing.
                kept = [f"{name} ne {v}" for v in sent_values if v is not None]
                return " and ".join(kept) if kept else None
            if any(v is None for v in sent_values):
                return None
            return " or ".join(f"{name} eq {v}" for v in sent_values)
        case IsNull(column=column, negated=negated):
            name, _ = types[column]
            return f"{name} {'ne' if negated else 'eq'} null"
        case Like(column=column):
            name, edm = types[column]
            if predicate.is_substring:
                inner = literal(edm, predicate.pattern[1])
                return None if inner is None else f"substringof({inner},{name})"
            head = literal(edm, predicate.prefix) if predicate.prefix else None
            return None if head is None else f"startswith({name},{head})"
    raise TypeError(f"not in negation normal form: {predicate!r}")


def _group(text: str) -> str:
    """`text` in parentheses when it has a top-level `or`/`and`, so that it combines safely."""
    return f"({text})" if " or " in text or " and " in text else text


def states_exactly(predicate: Predicate | None, types: dict[str, tuple[str, str]]) -> bool:
    """Whether `compile_filter` sends all of `predicate` with no value widened away (the API's count is then the
    count of its rows, on columns that compare exactly as DuckDB does). Patterns never are: Exact ignores case."""
    match predicate:
        case None | IsNull():
            return True
        case And(operands=parts) | Or(operands=parts):
            return all(states_exactly(p, types) for p in parts)
        case Comparison(column=column, op=op, value=value):
            return literal(types[column][1], value, exact=op is Operator.NE) is not None
        case InList(column=column, values=values, negated=negated):
            return all(literal(types[column][1], v, exact=negated) is not None for v in values)
    return False

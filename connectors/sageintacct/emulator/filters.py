"""Record tests from the two filter languages: `query`'s `<filter>` XML and readByQuery's query string.

Semantics, per the vendor's query documentation (api-protocols.md §1.5-1.6): values are compared in the field's
type (numbers as numbers, dates as dates), text case-sensitively by code point unless `caseinsensitive` is set;
an empty field matches only `isnull` (every comparison with it is false, `notequalto` and `notin` included, as
in SQL); `like` takes `%` and `_` wildcards; `in`/`notin` take 1 to 1000 values and `between` exactly two.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from typing import Any

from .schema import Field, ObjectDef
from .values import BadValue, parse, render

Record = dict[str, Any]
Test = Callable[[Record], bool]


class BadQuery(ValueError):
    """The filter or query string is malformed for the object."""


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "equalto": lambda a, b: bool(a == b),
    "notequalto": lambda a, b: bool(a != b),
    "lessthan": lambda a, b: bool(a < b),
    "lessthanorequalto": lambda a, b: bool(a <= b),
    "greaterthan": lambda a, b: bool(a > b),
    "greaterthanorequalto": lambda a, b: bool(a >= b),
}
MAX_IN = 1000


def like_pattern(pattern: str, case_insensitive: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if case_insensitive else 0))


def _field(obj: ObjectDef, name: str | None) -> Field:
    found = obj.by_id.get((name or "").strip().upper())
    if found is None:
        raise BadQuery(f"Invalid field {name!r} for object {obj.name}")
    return found


def _typed(field: Field, text: str | None, folded: bool) -> Any:
    try:
        value = parse(field, text)
    except BadValue as error:
        raise BadQuery(str(error)) from None
    return value.lower() if folded and isinstance(value, str) else value


def _get(field: Field, folded: bool) -> Callable[[Record], Any]:
    name = field.id
    if folded and field.datatype in ("TEXT", "ENUM"):
        return lambda r: r[name].lower() if isinstance(r[name], str) else r[name]
    return lambda r: r[name]


def compile_filter(obj: ObjectDef, element: ElementTree.Element, case_insensitive: bool = False) -> Test:
    """The record test for one `<filter>` operator element (or `<and>`/`<or>`)."""
    op = element.tag
    if op in ("and", "or"):
        parts = [compile_filter(obj, child, case_insensitive) for child in element]
        if len(parts) < 2:
            raise BadQuery(f"<{op}> needs at least two operands")
        if op == "and":
            return lambda r: all(p(r) for p in parts)
        return lambda r: any(p(r) for p in parts)
    field = _field(obj, element.findtext("field"))
    folded = case_insensitive and field.datatype in ("TEXT", "ENUM")
    get = _get(field, folded)
    values = [v.text for v in element.findall("value")]
    if op in ("isnull", "isnotnull"):
        wanted_null = op == "isnull"
        return lambda r: (r[field.id] is None) == wanted_null
    if op in _COMPARE:
        if len(values) != 1:
            raise BadQuery(f"<{op}> takes one <value>")
        compare, value = _COMPARE[op], _typed(field, values[0], folded)
        if value is None:
            return lambda r: False
        return lambda r: (v := get(r)) is not None and compare(v, value)
    if op in ("in", "notin"):
        if not 1 <= len(values) <= MAX_IN:
            raise BadQuery(f"<{op}> takes 1 to {MAX_IN} values")
        members = {_typed(field, v, folded) for v in values}
        inside = op == "in"
        return lambda r: (v := get(r)) is not None and (v in members) == inside
    if op == "between":
        if len(values) != 2:
            raise BadQuery("<between> takes exactly two values")
        low, high = (_typed(field, v, folded) for v in values)
        return lambda r: (v := get(r)) is not None and low <= v <= high
    if op in ("like", "notlike"):
        if len(values) != 1:
            raise BadQuery(f"<{op}> takes one <value>")
        pattern, positive = like_pattern(values[0] or "", case_insensitive), op == "like"
        return lambda r: (v := r[field.id]) is not None and bool(pattern.fullmatch(render(v))) == positive
    raise BadQuery(f"unknown filter operator <{op}>")

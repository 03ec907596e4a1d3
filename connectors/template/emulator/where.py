"""The template API's `where` parameter: a JSON filter tree, parsed and evaluated against records.

```json
{"and": [{"field": "city", "op": "eq", "value": "Zürich"}, {"not": {"field": "score", "op": "lt", "value": "10"}}]}
```

Semantics (what the connector's pushdown relies on, and documents): text compares by code point, case-sensitive;
`decimal` values travel as strings and compare as decimals; dates as `YYYY-MM-DD`, datetimes as ISO 8601 with a
zone; `startswith` tests a text's beginning by code point; a comparison with null is false, so `ne` and `not`
never match a null field (as in SQL); `in` takes a list.
A malformed tree is a 400 with the API's error body.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .data import SCHEMAS, Field


class BadFilter(ValueError):
    """The `where` parameter is not a valid filter for the table."""


Test = Callable[[Mapping[str, Any]], bool | None]  # None: unknown (a null took part), as SQL's three values


def _typed(field: Field, value: Any) -> Any:
    if value is None:
        raise BadFilter(f"use op null/notnull to test {field.name} for null")
    try:
        if field.type == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                raise BadFilter(f"{field.name} takes whole numbers")
            return value
        if field.type == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise BadFilter(f"{field.name} takes numbers")
            return float(value)
        if field.type == "decimal":
            return Decimal(str(value))
        if field.type == "boolean":
            if not isinstance(value, bool):
                raise BadFilter(f"{field.name} takes true or false")
            return value
        if field.type == "date":
            return datetime.date.fromisoformat(str(value))
        if field.type == "datetime":
            parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                raise BadFilter(f"{field.name} needs a time zone in {value!r}")
            return parsed
        if not isinstance(value, str):
            raise BadFilter(f"{field.name} takes text")
        return value
    except (ValueError, InvalidOperation) as error:
        if isinstance(error, BadFilter):
            raise
        raise BadFilter(f"{value!r} is not a valid {field.type} for {field.name}") from None


def stored(field: Field, value: Any) -> Any:
    """A record's value in the form filters compare with."""
    return None if value is None else _typed(field, value)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: bool(a == b),
    "ne": lambda a, b: bool(a != b),
    "lt": lambda a, b: bool(a < b),
    "le": lambda a, b: bool(a <= b),
    "gt": lambda a, b: bool(a > b),
    "ge": lambda a, b: bool(a >= b),
    "startswith": lambda a, b: bool(a.startswith(b)),
}


def parse(table: str, tree: Any) -> Test:
    """A record test for the filter tree, or `BadFilter`."""
    fields = {f.name: f for f in SCHEMAS[table]}
    if not isinstance(tree, dict) or len(tree) == 0:
        raise BadFilter("a filter is a JSON object")
    if "and" in tree or "or" in tree:
        word = "and" if "and" in tree else "or"
        parts = tree[word]
        if not isinstance(parts, list) or not parts:
            raise BadFilter(f"{word} takes a non-empty list")
        tests = [parse(table, part) for part in parts]
        return _all(tests) if word == "and" else _any(tests)
    if "not" in tree:
        inner = parse(table, tree["not"])

        def negated(record: Mapping[str, Any]) -> bool | None:
            result = inner(record)
            return None if result is None else not result

        return negated
    name, op = tree.get("field"), tree.get("op")
    field = fields.get(name) if isinstance(name, str) else None
    if field is None:
        raise BadFilter(f"no field {name!r} in {table}")
    if op not in field.filterable:
        raise BadFilter(f"{field.name} can't be filtered with {op!r}")
    if op in ("null", "notnull"):
        return lambda record: (record[field.name] is None) == (op == "null")
    if op == "in":
        values = tree.get("value")
        if not isinstance(values, list) or not values:
            raise BadFilter("in takes a non-empty list")
        wanted = {_typed(field, v) for v in values}
        return lambda record: None if record[field.name] is None else stored(field, record[field.name]) in wanted
    compare = _COMPARE[op]
    value = _typed(field, tree.get("value"))
    return lambda record: None if record[field.name] is None else compare(stored(field, record[field.name]), value)


def _all(tests: list[Test]) -> Test:
    def test(record: Mapping[str, Any]) -> bool | None:
        results = [t(record) for t in tests]
        if False in results:
            return False
        return None if None in results else True

    return test


def _any(tests: list[Test]) -> Test:
    def test(record: Mapping[str, Any]) -> bool | None:
        results = [t(record) for t in tests]
        if True in results:
            return True
        return None if None in results else False

    return test

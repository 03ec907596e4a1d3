"""The gateway's value formats: how a field's typed value is written out and read from requests.

Dates are `MM/DD/YYYY` and timestamps `MM/DD/YYYY HH:MM:SS` with no zone; booleans are `true`/`false` in data
and may be written `T`/`F` (readByQuery's form); decimals have no thousands separators (api-protocols.md §1.10).
An empty element is an empty field: the gateway does not tell an empty string from no value.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .schema import Field

DATE = "%m/%d/%Y"
TIMESTAMP = "%m/%d/%Y %H:%M:%S"
NUMERIC = frozenset({"INTEGER", "DECIMAL", "CURRENCY"})


class BadValue(ValueError):
    """A value that does not fit its field."""


def render(value: Any) -> str:
    """A stored value as the gateway writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.strftime(TIMESTAMP)
    if isinstance(value, datetime.date):
        return value.strftime(DATE)
    return str(value)


def parse(field: Field, text: str | None, *, strict: bool = False) -> Any:
    """The typed value of `text` for `field` (None for an empty value), or `BadValue`; `strict` (writes) also
    refuses an ENUM value outside its valid values, which a filter merely never matches."""
    if text is None or text == "":
        return None
    kind = field.datatype
    try:
        if kind == "INTEGER":
            return int(text.strip())
        if kind in ("DECIMAL", "CURRENCY"):
            value = Decimal(text.strip())
            if not value.is_finite():
                raise BadValue(text)
            return value
        if kind == "BOOLEAN":
            flag = {"true": True, "t": True, "false": False, "f": False}.get(text.strip().lower())
            if flag is None:
                raise BadValue(text)
            return flag
        if kind == "DATE":
            return datetime.datetime.strptime(text.strip(), DATE).date()
        if kind == "TIMESTAMP":
            stripped = text.strip()
            return datetime.datetime.strptime(stripped, TIMESTAMP if " " in stripped else DATE)
    except (ValueError, InvalidOperation):
        raise BadValue(f"{text!r} is not a valid {kind.lower()} for {field.id}") from None
    if strict and field.valid_values and text not in field.valid_values:
        raise BadValue(f"{text!r} is not one of {', '.join(field.valid_values)} for {field.id}")
    return text

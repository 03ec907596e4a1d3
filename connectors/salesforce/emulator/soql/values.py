"""How field values of each describe type compare, sort and group in SOQL.

Text compares case-insensitively (unless the field is case-sensitive), Ids by their 15-character form, a
multi-select picklist as the set of its values; numbers, booleans and the fixed-width date/datetime wire strings
compare as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..model import NUMBER_TYPES, TEXT_TYPES, FieldDef

Normalizer = Callable[[Any], Any]


def kind_of(field: FieldDef) -> str:
    """The comparison family of a field: text, id, multi, number, boolean, date, datetime or other."""
    if field.type in ("id", "reference"):
        return "id"
    if field.type == "multipicklist":
        return "multi"
    if field.type in TEXT_TYPES or field.type == "encryptedstring":
        return "text"
    if field.type in NUMBER_TYPES or field.type == "long":
        return "number"
    if field.type in ("boolean", "date", "datetime"):
        return field.type
    return "other"


def compare_key(field: FieldDef) -> Normalizer | None:
    """What to apply to a non-null value (and to a literal) before comparing or grouping; None: use it as it is."""
    kind = kind_of(field)
    if kind == "text":
        return None if field.case_sensitive else str.lower
    if kind == "id":
        return id15
    if kind == "multi":
        return picks
    return None


def sort_key(field: FieldDef) -> Normalizer | None:
    """What to apply to a non-null value before sorting; None: sort it as it is."""
    kind = kind_of(field)
    if kind in ("text", "multi"):
        return None if field.case_sensitive else str.lower
    return None


def id15(value: str) -> str:
    """The 15-character, case-sensitive form of an Id; the 18-character form only adds a checksum."""
    return value[:15]


def picks(value: str) -> frozenset[str]:
    """The values of a multi-select picklist (``a;b``), case-folded, order-insensitive."""
    return frozenset(part.strip().lower() for part in value.split(";") if part.strip())

"""Values a POST or PUT body carries, checked against the property's Edm type and kept in the stored form.

Dates arrive as `/Date(ms)/` (the form the API returns) or ISO 8601 text (`2024-05-01T10:00:00`), and are kept
as epoch milliseconds; guids are kept in lower case; a value of the wrong JSON type is refused.
"""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any

from connectors.exactonline.entities import Property

_DOTNET_DATE = re.compile(r"/Date\((-?\d+)(?:[+-]\d{4})?\)/")
_INTEGERS = {"Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Byte"}


class BadValue(ValueError):
    """A body value that does not fit its property."""


def stored(prop: Property, value: Any) -> Any:
    """`value` in the stored form of `prop`, or `BadValue`."""
    if value is None:
        return None
    edm = prop.edm
    if edm == "Edm.String" and isinstance(value, str):
        return value
    if edm == "Edm.Boolean" and isinstance(value, bool):
        return value
    if edm in _INTEGERS and isinstance(value, int) and not isinstance(value, bool):
        return value
    if edm == "Edm.Double" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if edm == "Edm.Guid" and isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise BadValue(f"'{value}' is not a valid Edm.Guid for property '{prop.name}'.") from None
    if edm == "Edm.DateTime" and isinstance(value, str):
        found = _DOTNET_DATE.fullmatch(value)
        if found:
            return int(found.group(1))
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise BadValue(f"'{value}' is not a valid Edm.DateTime for property '{prop.name}'.") from None
        if moment.tzinfo is not None:
            moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
        return round((moment - datetime.datetime(1970, 1, 1)).total_seconds() * 1000)
    raise BadValue(f"Type mismatch for property '{prop.name}' ({edm}): {value!r}.")

"""Records as the retrieve resources return them, and the ``fields=`` parameter that narrows them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import ApiError
from .model import ObjectDef, Record
from .schema import ObjectSpec


def render_record(spec: ObjectSpec, record: Record, prefix: str, fields: Sequence[str] | None = None) -> dict[str, Any]:
    """A record as the retrieve resource returns it: attributes, then its fields in describe order."""
    names = fields if fields is not None else [field.name for field in spec.definition.fields]
    row: dict[str, Any] = {"attributes": {"type": spec.name, "url": f"{prefix}/sobjects/{spec.name}/{record['Id']}"}}
    for name in names:
        row[name] = record.get(name)
    return row


def selected_fields(obj: ObjectDef, fields: str | None) -> list[str] | None:
    """The canonical names of a ``fields=`` parameter, or None for all fields."""
    if not fields:
        return None
    names = []
    for name in fields.split(","):
        field = obj.field(name.strip())
        if field is None:
            raise ApiError(
                400,
                "INVALID_FIELD",
                f"No such column '{name.strip()}' on entity '{obj.name}'. If you are attempting to use a custom "
                "field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the "
                "describe call for the appropriate names.",
            )
        names.append(field.name)
    return names

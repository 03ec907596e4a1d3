"""Turning a write request's JSON body into wire values, with the platform's errors for what it rejects.

Order and codes follow the platform: an unknown field is INVALID_FIELD; a field the caller may not write is
INVALID_FIELD_FOR_INSERT_UPDATE; a value of the wrong JSON type or format is JSON_PARSER_ERROR with the Jackson
wording the REST API uses ("Cannot deserialize instance of date from VALUE_STRING value …"); then per-field
checks (length, range, email, Ids of lookups). Scalars are coerced as Jackson does by default: a number or
boolean sent to a text field becomes its text, and a numeric string sent to a number field is parsed.
Picklists are unrestricted (the platform's default), so any text is accepted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from . import ids
from .errors import ApiError, record_error
from .model import TEXT_TYPES, Catalog, FieldDef, ObjectDef

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?")
_TIME = re.compile(r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?Z?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_JACKSON_KIND = {"boolean": "boolean", "int": "int", "double": "double", "currency": "double", "percent": "double"}
_JACKSON_KIND |= {"date": "date", "datetime": "datetime", "time": "time"}


def _token(value: Any) -> str:
    if isinstance(value, bool):
        return "VALUE_TRUE value true" if value else "VALUE_FALSE value false"
    if isinstance(value, str):
        return f"VALUE_STRING value {value}"
    if isinstance(value, int):
        return f"VALUE_NUMBER_INT value {value}"
    if isinstance(value, float):
        return f"VALUE_NUMBER_FLOAT value {value}"
    return "START_ARRAY value [" if isinstance(value, list) else "START_OBJECT value {"


def parser_error(field: FieldDef, value: Any, where: str) -> ApiError:
    """JSON_PARSER_ERROR for a value the platform's JSON reader can't turn into the field's type."""
    kind = _JACKSON_KIND.get(field.type, "string")
    return record_error(
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {kind} from {_token(value)} or request may be missing a required field{where}",
    )


def _text(field: FieldDef, value: Any) -> str | None:
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        raise TypeError
    if value == "":  # the platform stores an empty string as null
        return None
    if field.length and len(value) > field.length:
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise record_error(
            "STRING_TOO_LONG",
            f"{field.label}: data value too large: {shown} (max length={field.length})",
            [field.name],
        )
    if field.type == "email" and not _EMAIL.fullmatch(value):
        raise record_error("INVALID_EMAIL_ADDRESS", f"{field.label}: invalid email address: {value}", [field.name])
    return value


def _boolean(_field: FieldDef, value: Any) -> bool:
    if value is None:  # a checkbox is never null: clearing it unchecks it
        return False
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise TypeError


def _number(field: FieldDef, value: Any) -> int | float:
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, str):
        try:
            value = float(value) if field.type != "int" else int(value)
        except ValueError:
            raise TypeError from None
    if not isinstance(value, int | float) or value != value or value in (float("inf"), float("-inf")):
        raise TypeError
    if field.type == "int":
        if isinstance(value, float) and not value.is_integer():
            raise TypeError
        number: int | float = int(value)
        digits = field.digits or 9
    else:
        number = round(float(value), field.scale)
        digits = (field.precision or 18) - field.scale
    if abs(number) >= 10**digits:
        raise record_error(
            "NUMBER_OUTSIDE_VALID_RANGE",
            f"{field.label}: value outside of valid range on numeric field: {value}",
            [field.name],
        )
    return number


def _date(_field: FieldDef, value: Any) -> str:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise TypeError
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise TypeError from None
    return value


def _datetime(_field: FieldDef, value: Any) -> str:
    """Any ISO 8601 instant (a missing offset means UTC, as on the platform) as the UTC wire value."""
    match = _DATETIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise TypeError
    day, hour, minute, second, fraction, offset = match.groups()
    try:
        instant = dt.datetime.fromisoformat(f"{day}T{hour or '00'}:{minute or '00'}:{second or '00'}")
        millis = int((fraction or "0")[:3].ljust(3, "0"))
        if offset and offset != "Z":
            sign = 1 if offset[0] == "+" else -1
            digits = offset[1:].replace(":", "")
            instant -= sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    except ValueError:
        raise TypeError from None
    return f"{instant:%Y-%m-%dT%H:%M:%S}.{millis:03d}+0000"


def _time(_field: FieldDef, value: Any) -> str:
    match = _TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise TypeError
    hour, minute, second, millis = match.groups()
    if int(hour) > 23 or int(minute) > 59 or int(second or 0) > 59:
        raise TypeError
    return f"{hour}:{minute}:{second or '00'}.{(millis or '0').ljust(3, '0')}Z"


_COERCE: dict[str, Callable[[FieldDef, Any], Any]] = {
    "boolean": _boolean,
    "int": _number,
    "double": _number,
    "currency": _number,
    "percent": _number,
    "date": _date,
    "datetime": _datetime,
    "time": _time,
}


def _reference(catalog: Catalog, field: FieldDef, value: Any) -> str | None:
    if value is None or value == "":
        return None
    canonical = ids.normalize(value)
    if canonical is None:
        raise record_error("MALFORMED_ID", f"{field.label}: id value of incorrect type: {value}", [field.name])
    targets = {target.key_prefix for name in field.reference_to if (target := catalog.object(name)) is not None}
    if canonical[:3] not in targets:
        raise record_error(
            "FIELD_INTEGRITY_EXCEPTION", f"{field.label}: id value of incorrect type: {value}", [field.name]
        )
    record = catalog.get(canonical)
    if record is None:
        raise record_error("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [field.name])
    if catalog.is_deleted(record):
        raise record_error("ENTITY_IS_DELETED", "entity is deleted", [field.name])
    return canonical


def coerce_value(catalog: Catalog, field: FieldDef, value: Any, where: str = "") -> Any:
    """The wire value for `value` written to `field`, or the ApiError the platform answers with."""
    if field.type == "reference":
        if value is not None and not isinstance(value, str):
            raise parser_error(field, value, where)
        return _reference(catalog, field, value)
    if value is None and field.type != "boolean":
        return None
    coerce = _COERCE.get(field.type, _text if field.type in TEXT_TYPES else None)
    if coerce is None:
        raise parser_error(field, value, where)
    try:
        return coerce(field, value)
    except TypeError:
        raise parser_error(field, value, where) from None


def unknown_field(obj: ObjectDef, name: str) -> ApiError:
    """INVALID_FIELD for a field the object does not have."""
    return record_error("INVALID_FIELD", f"No such column '{name}' on sobject of type {obj.name}", [name])


def coerce_body(
    catalog: Catalog, obj: ObjectDef, body: Mapping[str, Any], *, creating: bool, raw: str = ""
) -> dict[str, Any]:
    """The canonical-name → wire-value map of a create (`creating`) or update body.

    `raw` is the request's JSON text, used only to point JSON_PARSER_ERROR at a line and column as the
    platform's messages do (the first occurrence of the field's name; good enough to find the culprit).
    """
    fields: dict[str, tuple[FieldDef, Any]] = {}
    for name, value in body.items():
        if name == "attributes":
            continue
        field = obj.field(name)
        if field is None:
            raise unknown_field(obj, name)
        if field.name == "Id" and creating:
            raise record_error("INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", ["Id"])
        fields[field.name] = (field, value)
    fields.pop("Id", None)
    locked = [name for name, (field, _) in fields.items() if not (field.createable if creating else field.updateable)]
    if locked:
        raise record_error(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to create/update fields: {', '.join(locked)}. Please check the security settings of this field "
            "and verify that it is read/write for your profile or permission set.",
            locked,
        )
    return {name: coerce_value(catalog, field, value, _where(raw, name)) for name, (field, value) in fields.items()}


def _where(raw: str, name: str) -> str:
    at = raw.find(f'"{name}"')
    if at < 0:
        at = raw.lower().find(f'"{name.lower()}"')
    if at < 0:
        return ""
    at = raw.find(":", at) + 1
    line = raw.count("\n", 0, at) + 1
    return f" at [line:{line}, column:{at - raw.rfind(chr(10), 0, at)}]"


def missing_required(obj: ObjectDef, record: Mapping[str, Any]) -> ApiError | None:
    """REQUIRED_FIELD_MISSING naming every writable required field that is null, or None."""
    missing = [
        field.name
        for field in obj.fields
        if not field.nillable
        and field.createable
        and field.type != "boolean"
        and record.get(field.name) is None
        and not field.defaulted_on_create
    ]
    if not missing:
        return None
    return record_error("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing)

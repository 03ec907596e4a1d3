"""Constructors for field definitions, with the describe attributes each field type has on the platform.

Object schemas read as a list of calls (``text("Name", 255, required=True)``) instead of repeating the dozen
capability flags per field; the flags follow the platform's rules per type (long text areas are not filterable,
numbers are not groupable, calculated fields are read-only, and so on).
"""

from __future__ import annotations

from typing import Any

from .model import FieldDef


def _label(name: str) -> str:
    base = name.removesuffix("__c")
    if "__" in base:
        base = base.split("__", 1)[1]
    base = base.removesuffix("Id") if base.endswith("Id") and len(base) > 2 else base
    words: list[str] = []
    for part in base.replace("_", " ").split(" "):
        current = ""
        for char in part:
            if char.isupper() and current and not current[-1].isupper():
                words.append(current)
                current = char
            else:
                current += char
        if current:
            words.append(current)
    return " ".join(words)


def _field(name: str, type_: str, *, required: bool, read_only: bool, **flags: Any) -> FieldDef:
    flags.setdefault("label", _label(name))
    flags.setdefault("custom", name.endswith("__c"))
    if required:
        flags["nillable"] = False
    if read_only:
        flags["createable"] = False
        flags["updateable"] = False
    return FieldDef(name, type_, **flags)


def id_field() -> FieldDef:
    """The Id field every object has."""
    return FieldDef(
        "Id",
        "id",
        label="Record ID",
        length=18,
        nillable=False,
        createable=False,
        updateable=False,
        defaulted_on_create=True,
        unique=False,
        case_sensitive=False,
    )


def text(name: str, length: int = 255, *, required: bool = False, read_only: bool = False, **flags: Any) -> FieldDef:
    """A string field (the platform's ``string`` type)."""
    return _field(name, "string", required=required, read_only=read_only, length=length, **flags)


def textarea(name: str, length: int = 32000, *, read_only: bool = False) -> FieldDef:
    """A text area; long ones (over 255 characters) can't be filtered, sorted or grouped on."""
    long = length > 255
    return _field(
        name,
        "textarea",
        required=False,
        read_only=read_only,
        length=length,
        filterable=not long,
        sortable=not long,
        groupable=not long,
    )


def typed_text(name: str, type_: str, length: int = 80, *, required: bool = False) -> FieldDef:
    """An email, phone or url field: a string with the platform's format semantics."""
    return _field(name, type_, required=required, read_only=False, length=length)


def picklist(
    name: str, values: tuple[str, ...], *, required: bool = False, read_only: bool = False, **flags: Any
) -> FieldDef:
    """A single-select picklist; unrestricted, as the platform's picklists are by default."""
    return _field(name, "picklist", required=required, read_only=read_only, length=255, picklist_values=values, **flags)


def multipicklist(name: str, values: tuple[str, ...]) -> FieldDef:
    """A multi-select picklist (values joined with ``;``); not sortable or groupable."""
    return _field(
        name,
        "multipicklist",
        required=False,
        read_only=False,
        length=4099,
        picklist_values=values,
        sortable=False,
        groupable=False,
    )


def boolean(name: str, *, read_only: bool = False, **flags: Any) -> FieldDef:
    """A checkbox: never null, defaulted to false on create."""
    flags.setdefault("defaulted_on_create", True)
    return _field(name, "boolean", required=True, read_only=read_only, **flags)


def integer(name: str, digits: int = 9, *, read_only: bool = False) -> FieldDef:
    """An int field; `digits` is its maximum number of digits."""
    return _field(name, "int", required=False, read_only=read_only, digits=digits)


def number(
    name: str,
    type_: str = "double",
    precision: int = 18,
    scale: int = 2,
    *,
    read_only: bool = False,
    calculated: bool = False,
    required: bool = False,
    **flags: Any,
) -> FieldDef:
    """A double, currency or percent field with its precision and scale; numbers are not groupable."""
    return _field(
        name,
        type_,
        required=required,
        read_only=read_only or calculated,
        precision=precision,
        scale=scale,
        groupable=False,
        calculated=calculated,
        **flags,
    )


def date(name: str, *, required: bool = False, read_only: bool = False) -> FieldDef:
    """A date field (``YYYY-MM-DD``)."""
    return _field(name, "date", required=required, read_only=read_only)


def datetime_(name: str, *, required: bool = False, read_only: bool = False, **flags: Any) -> FieldDef:
    """A datetime field; datetimes are not groupable."""
    return _field(name, "datetime", required=required, read_only=read_only, groupable=False, **flags)


def time_(name: str) -> FieldDef:
    """A time-of-day field (``hh:mm:ss.000Z``)."""
    return _field(name, "time", required=False, read_only=False)


def reference(
    name: str, to: str, relationship: str, *, required: bool = False, read_only: bool = False, **flags: Any
) -> FieldDef:
    """A lookup or master-detail field pointing at `to`, traversed in SOQL as `relationship`."""
    return _field(
        name,
        "reference",
        required=required,
        read_only=read_only,
        length=18,
        reference_to=(to,),
        relationship_name=relationship,
        **flags,
    )


def auto_name(label: str) -> FieldDef:
    """An auto-number Name: assigned by the platform on create, never written by the API."""
    return text("Name", 80, read_only=True, label=label, defaulted_on_create=True, nillable=False)


def formula_text(name: str, length: int = 1300) -> FieldDef:
    """A text formula: calculated by the platform, never written by the API."""
    return _field(name, "string", required=False, read_only=True, length=length, calculated=True)


def system_fields(*, owner: bool = True) -> tuple[FieldDef, ...]:
    """The audit fields the platform maintains on every record (and OwnerId on objects that have owners)."""
    audit = (
        datetime_("CreatedDate", required=True, read_only=True, defaulted_on_create=True, label="Created Date"),
        reference("CreatedById", "User", "CreatedBy", required=True, read_only=True, defaulted_on_create=True),
        datetime_("LastModifiedDate", required=True, read_only=True, defaulted_on_create=True),
        reference(
            "LastModifiedById", "User", "LastModifiedBy", required=True, read_only=True, defaulted_on_create=True
        ),
        datetime_("SystemModstamp", required=True, read_only=True, defaulted_on_create=True),
        boolean("IsDeleted", read_only=True, label="Deleted"),
    )
    if not owner:
        return audit
    owner_field = reference("OwnerId", "User", "Owner", required=True, defaulted_on_create=True, label="Owner ID")
    return (owner_field, *audit)

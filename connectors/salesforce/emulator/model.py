"""The emulator's data model: object and field definitions as describe reports them, and the record store protocol.

Shared by the SOQL engine (which needs field types and relationships to type literals and follow parent fields)
and the HTTP server (which renders describe and serves records). Records are plain dicts keyed by the fields'
canonical names, holding *wire-format* values, exactly what the REST API puts in JSON:

- string-like types (id, string, textarea, picklist, multipicklist, reference, email, phone, url): ``str``
- boolean: ``bool``; int: ``int``; double, percent, currency: ``int | float``
- date: ``"YYYY-MM-DD"``; datetime: ``"YYYY-MM-DDThh:mm:ss.000+0000"`` (always UTC); time: ``"hh:mm:ss.000Z"``
- any field may be ``None`` (null)

Keeping wire values means a page is rendered without per-value conversion, and because dates and UTC datetimes
share one fixed-width format, string order is time order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

Record = dict[str, Any]

#: Describe types whose values are strings on the wire and compare as text in SOQL.
TEXT_TYPES = frozenset(
    {"id", "string", "textarea", "picklist", "multipicklist", "reference", "email", "phone", "url", "combobox"}
)
NUMBER_TYPES = frozenset({"int", "double", "percent", "currency"})


@dataclass(frozen=True)
class FieldDef:
    """One field of an object, with the describe attributes the emulator reports and enforces."""

    name: str
    type: str
    label: str = ""
    length: int = 0
    precision: int = 0
    scale: int = 0
    digits: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    filterable: bool = True
    sortable: bool = True
    groupable: bool = True
    calculated: bool = False
    unique: bool = False
    case_sensitive: bool = False
    external_id: bool = False
    defaulted_on_create: bool = False
    custom: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    picklist_values: tuple[str, ...] = ()

    @property
    def required_on_create(self) -> bool:
        """Whether a create must set the field: not nillable, createable, and not defaulted by the platform."""
        return not self.nillable and self.createable and not self.defaulted_on_create and self.type != "boolean"


@dataclass(frozen=True)
class ObjectDef:
    """One sObject type: its name, key prefix (the first three characters of its Ids) and fields."""

    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: tuple[FieldDef, ...]
    custom: bool = False
    queryable: bool = True
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    _by_lower: dict[str, FieldDef] = field(init=False, repr=False, compare=False)
    _by_relationship: dict[str, FieldDef] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_lower", {f.name.lower(): f for f in self.fields})
        object.__setattr__(
            self,
            "_by_relationship",
            {f.relationship_name.lower(): f for f in self.fields if f.relationship_name},
        )

    def field(self, name: str) -> FieldDef | None:
        """The field named `name`, matched case-insensitively as SOQL does."""
        return self._by_lower.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        """The reference field whose relationship name is `name` (``Owner`` → ``OwnerId``), case-insensitively."""
        return self._by_relationship.get(name.lower())


class Catalog(Protocol):
    """What the SOQL engine reads: object definitions and records, never the HTTP layer."""

    def object(self, name: str) -> ObjectDef | None:
        """The object named `name`, case-insensitively, or None."""

    def records(self, name: str, *, include_deleted: bool = False) -> Sequence[Record]:
        """The live records of an object in insertion order; with `include_deleted`, the deleted ones too."""

    def get(self, record_id: str) -> Record | None:
        """The record with this Id (15- or 18-character) in any object, or None."""

    def is_deleted(self, record: Record) -> bool:
        """Whether `record` is in the recycle bin (only queryAll returns it)."""


def iter_fields(obj: ObjectDef) -> Iterator[str]:
    """The canonical field names of `obj` in describe order, as ``SELECT FIELDS(ALL)`` would list them."""
    return (f.name for f in obj.fields)

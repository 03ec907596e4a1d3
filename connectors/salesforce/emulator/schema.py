"""What the emulator knows about an object beyond its describe fields: derivations, defaults, relationships.

`model.ObjectDef` is what the SOQL engine needs. Serving and writing records needs more: the child
relationship names describe reports on the parent, which lookups are master-detail, auto-number formats, the
picklist defaults, the formulas the platform recomputes on every write, and roll-up summaries kept on parents.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from .model import ObjectDef, Record

#: Recomputes a record's calculated fields in place: (new record, previous version or None, fields written).
Derive = Callable[[Record, "Record | None", Collection[str]], None]


@dataclass(frozen=True)
class Rollup:
    """A roll-up summary: `target` on the parent is the sum of `source` over the live children."""

    parent_field: str
    source: str
    target: str


@dataclass(frozen=True)
class ObjectSpec:
    """An object as the emulator serves it: its definition plus the behaviour describe does not carry."""

    definition: ObjectDef
    #: Child relationship name (as the parent's describe lists it) per reference field of this object.
    child_relationships: Mapping[str, str] = field(default_factory=dict)
    #: Reference fields that are master-detail: required, and their children are deleted with the parent.
    master_detail: frozenset[str] = frozenset()
    #: Auto-number fields and their display format, e.g. ``{"Name": "SIN{0:06d}"}``.
    auto_number: Mapping[str, str] = field(default_factory=dict)
    #: Values the platform fills on create when the request leaves the field out.
    defaults: Mapping[str, Any] = field(default_factory=dict)
    #: The formula text describe reports for each calculated field.
    formulas: Mapping[str, str] = field(default_factory=dict)
    derive: Derive | None = None
    rollups: tuple[Rollup, ...] = ()

    @property
    def name(self) -> str:
        """The object's API name."""
        return self.definition.name

"""Name resolution: the FROM object and field paths, matched case-insensitively against the catalog.

A path such as ``Owner.Name`` or ``Account.Owner.Email`` becomes a `Path`: the canonical names, the reference
fields to follow, and a precomputed getter that walks parent records through ``catalog.get``, so evaluation never
interprets names per record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..model import Catalog, FieldDef, ObjectDef, Record, iter_fields
from .ast import FieldRef, Query
from .errors import bad_relationship, malformed, no_such_column, unsupported_object

Getter = Callable[[Record], Any]

#: The platform allows five levels of parent relationships in a path.
MAX_DEPTH = 5


@dataclass(frozen=True)
class Hop:
    """One step to a parent: the relationship (``Owner``), its reference field (``OwnerId``) and target objects."""

    relationship: str
    reference: str
    targets: tuple[ObjectDef, ...]

    def target_of(self, record_id: str) -> ObjectDef:
        """The object a parent Id belongs to; polymorphic references are told apart by key prefix."""
        if len(self.targets) > 1:
            for target in self.targets:
                if record_id.startswith(target.key_prefix):
                    return target
        return self.targets[0]


@dataclass(frozen=True)
class Path:
    """A resolved field path: the leaf field, the hops leading to it, and a getter for its value."""

    field: FieldDef
    hops: tuple[Hop, ...]
    getter: Getter
    pos: int

    @property
    def label(self) -> str:
        """Canonical dotted name, e.g. ``Owner.Name``."""
        return ".".join([*(hop.relationship for hop in self.hops), self.field.name])


class Resolver:
    """Resolves the names of one query (or a semi-join's inner query) against the catalog."""

    def __init__(self, query: Query, catalog: Catalog) -> None:
        found = catalog.object(query.object_name)
        if found is None or not found.queryable:
            raise unsupported_object(query.text, query.object_pos, query.object_name)
        self.object: ObjectDef = found
        self.catalog = catalog
        self.lookup = _memoized(catalog.get)
        self.text = query.text
        # A path may start with the object's alias or name: FROM Account a ... a.Name, Account.Name.
        self._qualifiers = {found.name.lower()} | ({query.alias.lower()} if query.alias else set())

    def fields_of(self, kind: str) -> list[FieldDef]:
        """The fields FIELDS(ALL|STANDARD|CUSTOM) stands for, in describe order."""
        fields = [f for name in iter_fields(self.object) if (f := self.object.field(name)) is not None]
        if kind == "ALL":
            return fields
        return [f for f in fields if f.custom == (kind == "CUSTOM")]

    def top_field(self, field: FieldDef, pos: int) -> Path:
        """A Path for a field of the FROM object itself."""
        return Path(field, (), _getter(field.name, (), self.lookup), pos)

    def path(self, ref: FieldRef) -> Path:
        """The resolved `ref`; raises INVALID_FIELD for an unknown relationship or field."""
        parts = ref.parts
        if len(parts) > 1 and parts[0].lower() in self._qualifiers:
            parts = parts[1:]
        if len(parts) - 1 > MAX_DEPTH:
            # UNCONFIRMED wording; the limit itself is documented.
            raise malformed(self.text, ref.pos, f"SOQL allows at most {MAX_DEPTH} levels of parent relationships")
        current: tuple[ObjectDef, ...] = (self.object,)
        hops: list[Hop] = []
        for name in parts[:-1]:
            reference = next((f for o in current if (f := o.relationship(name)) is not None), None)
            if reference is None or reference.relationship_name is None:
                raise bad_relationship(self.text, ref.pos, name)
            targets = tuple(o for t in reference.reference_to if (o := self.catalog.object(t)) is not None)
            if not targets:
                raise bad_relationship(self.text, ref.pos, name)
            hops.append(Hop(reference.relationship_name, reference.name, targets))
            current = targets
        leaf = next((f for o in current if (f := o.field(parts[-1])) is not None), None)
        if leaf is None:
            raise no_such_column(self.text, ref.pos, parts[-1], current[0].name)
        references = tuple(hop.reference for hop in hops)
        return Path(leaf, tuple(hops), _getter(leaf.name, references, self.lookup), ref.pos)


def _memoized(get: Callable[[str], Record | None]) -> Callable[[str], Record | None]:
    """`catalog.get` remembered for one query: thousands of records share a few parents (owners, accounts), and a
    catalog lookup normalizes the Id each time. The query also sees each parent as it was when first read.
    """
    found: dict[str, Record | None] = {}

    def lookup(record_id: str) -> Record | None:
        parent = found.get(record_id, _MISSING)
        if parent is _MISSING:
            parent = found[record_id] = get(record_id)
        return parent

    return lookup


_MISSING: Record = {}


def _getter(name: str, references: tuple[str, ...], get: Callable[[str], Record | None]) -> Getter:
    """A function reading `name` from a record, after following the reference fields `references` to parents."""
    if not references:

        def own(record: Record) -> Any:
            return record.get(name)

        return own

    def through_parents(record: Record) -> Any:
        current = record
        for reference in references:
            parent_id = current.get(reference)
            parent = get(parent_id) if parent_id is not None else None
            if parent is None:
                return None
            current = parent
        return current.get(name)

    return through_parents

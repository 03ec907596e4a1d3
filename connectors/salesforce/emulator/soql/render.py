"""Query records as the platform's JSON, rendered lazily: a page is rendered only when the server slices it.

A record is ``{"attributes": {"type", "url"}, <fields in SELECT order>}`` with canonical field names; fields of
a parent nest under the relationship name in an object with its own attributes (one object per relationship,
however many of its fields are selected), and a missing parent is ``null``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from ..model import Record
from .resolve import Hop, Path

Row = dict[str, Any]
Renderer = Callable[[Record], Row]


class Rows(Sequence[Row]):
    """The result rows of a query: the selected records, each rendered when it is read."""

    def __init__(self, records: Sequence[Record], render: Renderer) -> None:
        self._records = records
        self._render = render

    def __len__(self) -> int:
        return len(self._records)

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        if isinstance(index, slice):
            render = self._render
            return [render(record) for record in self._records[index]]
        return self._render(self._records[index])


@dataclass
class _Branch:
    """Fields selected through one relationship (mutable only while the tree is being built)."""

    hop: Hop
    children: dict[str, str | _Branch] = field(default_factory=dict)


def record_renderer(
    object_name: str, paths: Iterable[Path], url_prefix: str, get: Callable[[str], Record | None]
) -> Renderer:
    """A function rendering a record of `object_name` with the selected `paths`; `get` looks parents up by Id."""
    tree: dict[str, str | _Branch] = {}
    for path in paths:
        level = tree
        for hop in path.hops:
            # Relationship keys end with a dot so they never meet a field's key in the same level.
            branch = level.setdefault(f"{hop.relationship.lower()}.", _Branch(hop))
            assert isinstance(branch, _Branch)
            level = branch.children
        level.setdefault(path.field.name.lower(), path.field.name)
    node = _node(tree, f"{url_prefix}/sobjects/", get)

    def render(record: Record) -> Row:
        return node(record, object_name)

    return render


def _node(
    tree: dict[str, str | _Branch], base: str, get: Callable[[str], Record | None]
) -> Callable[[Record, str], Row]:
    """The renderer of one level of the tree, given the record and its object name."""
    if all(isinstance(entry, str) for entry in tree.values()):
        names = tuple(entry for entry in tree.values() if isinstance(entry, str))

        def flat(record: Record, type_name: str) -> Row:
            row: Row = {"attributes": {"type": type_name, "url": f"{base}{type_name}/{record.get('Id')}"}}
            for name in names:
                row[name] = record.get(name)
            return row

        return flat
    steps = [
        (entry, None, None)
        if isinstance(entry, str)
        else (entry.hop.relationship, entry.hop, _node(entry.children, base, get))
        for entry in tree.values()
    ]

    def nested(record: Record, type_name: str) -> Row:
        row: Row = {"attributes": {"type": type_name, "url": f"{base}{type_name}/{record.get('Id')}"}}
        for key, hop, child in steps:
            if hop is None or child is None:
                row[key] = record.get(key)
                continue
            parent_id = record.get(hop.reference)
            parent = None if parent_id is None else get(parent_id)
            row[key] = None if parent is None else child(parent, hop.target_of(str(parent_id)).name)
        return row

    return nested

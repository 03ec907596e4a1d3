"""ORDER BY with the platform's rules: nulls first by default, last under DESC unless NULLS FIRST; text sorts
case-insensitively; ties keep their previous (insertion) order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..model import FieldDef, Record
from .resolve import Getter
from .values import sort_key


@dataclass(frozen=True)
class SortKey:
    """One ORDER BY key; `nulls_first` None means the default for the direction."""

    getter: Getter
    field: FieldDef
    descending: bool
    nulls_first: bool | None


def sort_rows(rows: list[Record], keys: Sequence[SortKey]) -> None:
    """Sort `rows` in place by `keys`: one stable sort per key, least significant first."""
    for key in reversed(keys):
        rows[:] = _sorted(rows, key)


def _sorted(rows: list[Record], key: SortKey) -> list[Record]:
    """`rows` stably sorted by one key.

    Nulls are set aside and put back at the chosen end, so the sort itself compares plain values (no tuples per
    row): this is most of the cost of a full scan, and comparing bare values is several times faster.
    """
    values = [key.getter(row) for row in rows]
    norm = sort_key(key.field)
    if norm is not None:
        values = [None if value is None else norm(value) for value in values]
    present = [index for index, value in enumerate(values) if value is not None]
    present.sort(key=values.__getitem__, reverse=key.descending)
    ordered = [rows[index] for index in present]
    if len(present) == len(rows):
        return ordered
    nulls = [row for row, value in zip(rows, values, strict=True) if value is None]
    nulls_first = key.nulls_first if key.nulls_first is not None else not key.descending
    return nulls + ordered if nulls_first else ordered + nulls

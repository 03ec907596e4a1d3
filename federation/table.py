"""The table contract every connector implements: columns with capabilities, lazy scans, batch writes.

Capabilities are data: each `Column` says which operators it can push to the API and whether it can be
written, and the engine derives pushdown, validation, docs and the conformance suite from that.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from federation.errors import ReadOnlyError, UnknownColumnError
from federation.predicates import Operator, Predicate


@dataclass(frozen=True)
class Column:
    """One column: its Arrow type, what the API can do with it, and the API's own name for it."""

    name: str
    type: pa.DataType
    nullable: bool = True
    primary_key: bool = False
    native_name: str | None = None
    #: The API's own name for the column's type ("reference", "currency", …), for compilers and docs.
    native_type: str | None = None
    #: Operators the API evaluates as a superset of DuckDB's semantics (see `federation.predicates`).
    pushdown: frozenset[Operator] = frozenset()
    #: Whether the API applies those operators exactly (informational: the engine re-checks every row anyway).
    exact: bool = False
    sortable: bool = False
    insertable: bool = False
    updatable: bool = False
    #: Whether an insert must give a value (the API would refuse the record otherwise).
    required: bool = False
    description: str = ""

    @property
    def api_name(self) -> str:
        return self.native_name or self.name


@dataclass(frozen=True)
class TableInfo:
    """A table's name, columns and what can be done with it."""

    name: str
    columns: tuple[Column, ...]
    description: str = ""
    insertable: bool = False
    updatable: bool = False
    deletable: bool = False
    #: A cardinality estimate for DuckDB's optimizer, when the source knows it without a full scan.
    estimated_rows: int | None = None
    _by_lower: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_lower", {c.name.lower(): c for c in self.columns})

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in self.columns])

    @property
    def primary_key(self) -> Column | None:
        return next((c for c in self.columns if c.primary_key), None)

    def column(self, name: str) -> Column:
        """The column named `name` (case-insensitively, as DuckDB resolves names), or UnknownColumnError."""
        found = self._by_lower.get(name.lower())
        if found is None:
            raise UnknownColumnError(f"table {self.name!r} has no column {name!r}")
        return found

    def can_push(self, column: str, op: Operator) -> bool:
        found = self._by_lower.get(column.lower())
        return found is not None and op in found.pushdown


@dataclass(frozen=True)
class ScanRequest:
    """What a scan must return: these columns in this order, at least the rows where `predicate` holds.

    `predicate` is already reduced to what the table's columns can push. `limit` is a hint: a scan may return
    more rows, never fewer than the first `limit` matching ones.
    """

    columns: tuple[str, ...]
    predicate: Predicate | None = None
    limit: int | None = None


@dataclass(frozen=True)
class WriteResult:
    """How many records the API changed, and for inserts the keys it assigned, in input order."""

    count: int
    keys: tuple[object, ...] = ()


class Table(abc.ABC):
    """One table of a source. Scans are lazy: one Arrow batch per API page, schema fixed up front."""

    @property
    @abc.abstractmethod
    def info(self) -> TableInfo: ...

    @abc.abstractmethod
    def scan(self, request: ScanRequest) -> pa.RecordBatchReader:
        """A reader whose schema is exactly `request.columns`, pulling API pages only as batches are read."""

    def insert(self, rows: pa.Table) -> WriteResult:
        """Create one record per row; `rows` holds only columns of this table."""
        raise ReadOnlyError(f"table {self.info.name!r} does not support INSERT")

    def update(self, keys: Sequence[object], values: pa.Table) -> WriteResult:
        """Set `values` (one row per key, same order) on the records with these primary keys."""
        raise ReadOnlyError(f"table {self.info.name!r} does not support UPDATE")

    def delete(self, keys: Sequence[object]) -> WriteResult:
        """Delete the records with these primary keys."""
        raise ReadOnlyError(f"table {self.info.name!r} does not support DELETE")

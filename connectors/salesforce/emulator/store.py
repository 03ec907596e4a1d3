"""The record store: every object's records, generated on first touch, read by SOQL, changed in transactions.

The store implements `model.Catalog`. Each object's records are generated the first time anything touches the
object (so starting the emulator costs nothing at any size), then live in an Id-keyed dict in insertion order,
deleted records included (flagged ``IsDeleted``, the recycle bin that queryAll reads). Writes never mutate a
record: they put a new dict, so a query that already holds a snapshot keeps a consistent view. Every write runs
inside a `Transaction` holding the store's lock, which can undo everything it did (allOrNone).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from . import ids
from .datagen import GenContext
from .model import ObjectDef, Record
from .profiles import PROFILES, ObjectSource
from .schema import ObjectSpec

#: Reads by Id of one unmaterialized object that are served by generating the single record, before the
#: whole object is generated instead.
_SINGLE_READS = 5000


class _Table:
    """One object's records: generated ones (once something reads them all) and the ones written since.

    Until a query needs every record, the table stays unmaterialized: a write lands in `overlay`, and a read by
    Id generates just that record. Materializing applies the overlay in write order (an update keeps its
    record's place, a create is appended), so the result is the same as if everything had been generated first.
    """

    __slots__ = ("_all", "_live", "count", "overlay", "rows", "serial", "single_reads")

    def __init__(self, count: int) -> None:
        self.count = count
        self.rows: dict[str, Record] | None = None
        self.overlay: dict[str, Record] = {}
        #: The serial number of the last Id handed out: generated records take 1..count, created ones continue.
        self.serial = count
        self.single_reads = 0
        self._live: list[Record] | None = None
        self._all: list[Record] | None = None

    def changed(self) -> None:
        self._live = self._all = None

    def snapshot(self, include_deleted: bool) -> list[Record]:
        assert self.rows is not None
        if include_deleted:
            if self._all is None:
                self._all = list(self.rows.values())
            return self._all
        if self._live is None:
            self._live = [record for record in self.rows.values() if not record["IsDeleted"]]
        return self._live

    def written(self) -> dict[str, Record]:
        """Where writes go: the materialized rows, or the overlay."""
        return self.rows if self.rows is not None else self.overlay


class Store:
    """All records of one profile; thread-safe."""

    def __init__(self, profile: str, records: int, seed: int = 0) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}: choose one of {sorted(PROFILES)}")
        if records < 0:
            raise ValueError("records must be >= 0")
        sources = PROFILES[profile]
        self._sources = {source.spec.name.lower(): source for source in sources}
        self._by_prefix = {source.spec.definition.key_prefix: source for source in sources}
        self.context = GenContext(
            seed,
            {source.spec.name: source.count(records) for source in sources},
            {source.spec.name: source.spec.definition.key_prefix for source in sources},
        )
        self._tables: dict[str, _Table] = {}
        self._lock = threading.RLock()

    # -- Catalog --------------------------------------------------------------------------------------------

    def object(self, name: str) -> ObjectDef | None:
        """The object named `name`, case-insensitively, or None."""
        source = self._sources.get(name.lower())
        return source.spec.definition if source else None

    def records(self, name: str, *, include_deleted: bool = False) -> Sequence[Record]:
        """The object's live records in insertion order; with `include_deleted`, the deleted ones too."""
        source = self._sources.get(name.lower())
        if source is None:
            return []
        with self._lock:
            return self._materialized(source).snapshot(include_deleted)

    def get(self, record_id: str) -> Record | None:
        """The record with this Id (15 or 18 characters) in any object, deleted ones included, or None."""
        canonical = ids.normalize(record_id)
        source = self._by_prefix.get(canonical[:3]) if canonical else None
        if source is None or canonical is None:
            return None
        table = self._table(source)
        if table.rows is not None:
            return table.rows.get(canonical)
        record = table.overlay.get(canonical)
        if record is not None:
            return record
        index = ids.serial_of(canonical) - 1
        if source.generator is None or not 0 <= index < table.count:
            return None
        table.single_reads += 1
        if table.single_reads > _SINGLE_READS:
            # Reads by Id keep coming (a query following a lookup, say): one dict beats generating each time.
            with self._lock:
                return self._materialized(source).rows.get(canonical)  # type: ignore[union-attr]
        return self._generate_one(source, index)

    def is_deleted(self, record: Record) -> bool:
        """Whether `record` is in the recycle bin."""
        return record.get("IsDeleted") is True

    # -- what the server reads beyond the Catalog -----------------------------------------------------------

    def spec(self, name: str) -> ObjectSpec | None:
        """The full spec of the object named `name`, case-insensitively."""
        source = self._sources.get(name.lower())
        return source.spec if source else None

    def specs(self) -> list[ObjectSpec]:
        """Every object of the profile, in the order describe lists them."""
        return [source.spec for source in self._sources.values()]

    def spec_for_id(self, record_id: str) -> ObjectSpec | None:
        """The object a (normalized) Id belongs to, by its key prefix."""
        source = self._by_prefix.get(record_id[:3])
        return source.spec if source else None

    def children(self, parent: str) -> list[tuple[ObjectSpec, str]]:
        """(child object, reference field) for every field of the profile that points at `parent`."""
        return [
            (source.spec, field.name)
            for source in self._sources.values()
            for field in source.spec.definition.fields
            if parent in field.reference_to
        ]

    def generated(self, name: str, index: int) -> Record:
        """Record `index` of an object as its generator makes it, also past the generated count (a template)."""
        source = self._sources[name.lower()]
        if source.generator is None:
            raise ValueError(f"{source.spec.name} has no generated records")
        return self._generate_one(source, index)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Hold the write lock for a group of writes that `Transaction.rollback` can undo together."""
        with self._lock:
            yield Transaction(self)

    def _table(self, source: ObjectSource) -> _Table:
        table = self._tables.get(source.spec.name)
        if table is None:
            with self._lock:
                table = self._tables.setdefault(source.spec.name, _Table(self.context.count(source.spec.name)))
        return table

    def _materialized(self, source: ObjectSource) -> _Table:
        """The object's table with every record generated (call holding the lock)."""
        table = self._table(source)
        if table.rows is None:
            rows = self._generate(source, table.count)
            rows.update(table.overlay)
            table.rows, table.overlay = rows, {}
            table.changed()
        return table

    def _generate_one(self, source: ObjectSource, index: int) -> Record:
        assert source.generator is not None
        record = source.generator(self.context, index)
        if source.spec.derive is not None:
            source.spec.derive(record, None, ())
        return record

    def _generate(self, source: ObjectSource, count: int) -> dict[str, Record]:
        rows: dict[str, Record] = {}
        generator, derive, context = source.generator, source.spec.derive, self.context
        if generator is None:
            return rows
        # The records are acyclic dicts, hundreds of thousands of them: letting the cyclic collector rescan the
        # growing heap while they are made costs a third of the generation time, and it finds nothing.
        collecting = gc.isenabled()
        gc.disable()
        try:
            for index in range(count):
                record = generator(context, index)
                if derive is not None:
                    derive(record, None, ())
                rows[record["Id"]] = record
        finally:
            if collecting:
                gc.enable()
        return rows


class Transaction:
    """Writes made under the store's lock, each remembered so `rollback` can restore the state before them."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._undo: list[Callable[[], None]] = []

    def next_serial(self, name: str) -> int:
        """The Id serial number `new_serial` will hand out next."""
        return self._table(name).serial + 1

    def new_serial(self, name: str) -> int:
        """Hand out the next Id serial number of an object."""
        table = self._table(name)
        previous = table.serial
        table.serial += 1

        def undo() -> None:
            table.serial = previous

        self._undo.append(undo)
        return table.serial

    def put(self, name: str, record: Record) -> None:
        """Insert `record`, or replace the record with its Id (keeping its place in insertion order)."""
        table = self._table(name)
        rows = table.written()
        record_id = record["Id"]
        previous = rows.get(record_id)
        rows[record_id] = record
        table.changed()

        def undo() -> None:
            # The table may have been materialized since: undo where its records live now.
            current = table.written()
            if previous is None:
                current.pop(record_id, None)
            else:
                current[record_id] = previous
            table.changed()

        self._undo.append(undo)

    def rollback(self) -> None:
        """Undo every write of this transaction, newest first."""
        while self._undo:
            self._undo.pop()()

    def _table(self, name: str) -> _Table:
        source = self._store._sources[name.lower()]
        return self._store._table(source)

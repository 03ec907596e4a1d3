"""Writes to source tables: INSERT, UPDATE and DELETE statements routed to the target table's batch writes.

A statement whose target is a source table never reaches DuckDB as such (DuckDB can't write into a view over a
Python source). Instead, for one statement:

1. Checks that need only metadata, before any API call: the table accepts the operation, the columns exist and
   may be written, an INSERT gives every required column.
2. DuckDB evaluates what to write (`federation.statements` builds the queries, with the statement's own
   parameters): an INSERT's rows; for UPDATE and DELETE the keys of the rows the WHERE clause selects — a scan
   that pushes the WHERE clause to the API — and the new values.
3. Values are cast to the columns' types (DuckDB's casts; a value that does not fit fails the statement naming
   its column and row), and the table writes them by key in as few API calls as it can.
4. The statement's result is what DuckDB gives for its own DML (one row with the count) or its RETURNING rows,
   so `fetchall()`, `description` and `rowcount` behave as for any DuckDB statement.

`executemany` of an INSERT, or of an UPDATE/DELETE that pins one record by key (what the ORM sends), is one
batched write; any other UPDATE/DELETE runs once per parameter set. Records written are counted until the next
commit, so a rollback can say what it could not undo.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from federation.casting import cast_rows, first_true
from federation.connector import Connector
from federation.errors import (
    DataError,
    Error,
    IntegrityError,
    NotSupportedError,
    ProgrammingError,
    ReadOnlyError,
    UnknownColumnError,
    UnknownTableError,
    WriteError,
)
from federation.statements import (
    DIALECT,
    KEY,
    ORDINAL,
    Kind,
    Write,
    check_placeholders,
    constant_query,
    might_write,
    number_placeholders,
    parse_writes,
    pinned_key,
    resolve_query,
    returning_query,
    rows_query,
)
from federation.table import Column, Table, TableInfo, WriteResult

if TYPE_CHECKING:
    from federation.connection import Connection

Parameters = Sequence[Any] | Mapping[str, Any] | None

#: Keys per lookup query: an IN list this long keeps the API's GET URL well under its length limit.
KEYS_PER_LOOKUP = 200
_RESULT = "__duckfed_result"


@dataclass(frozen=True)
class Routed:
    """A write statement whose target is a source table."""

    write: Write
    source: str
    connector: Connector
    table: Table

    @property
    def info(self) -> TableInfo:
        return self.table.info

    @property
    def view(self) -> str:
        return f'"{self.source}"."{self.info.name}"'

    def fail(self, error: type[Error], message: str) -> Error:
        """An error of our tree with this statement's context."""
        return error(message, source=self.connector.scheme, operation=f"{self.write.kind.value} {self.info.name}")


class Writes:
    """Runs the write statements of one `Connection` and counts the records written since its last commit."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        #: Records written to each source since the last begin, commit or rollback.
        self.pending: Counter[str] = Counter()

    # -- routing ----------------------------------------------------------------------------------------------

    def route(self, sql: str) -> tuple[Routed, str] | None:
        """The routed statement and its SQL with numbered placeholders, if `sql` writes to a source table."""
        if not might_write(sql):
            return None
        numbered = number_placeholders(sql)
        writes, statements = parse_writes(numbered)
        routed = [r for r in (self._target(w) for w in writes) if r is not None]
        if not routed:
            return None
        if statements > 1:
            raise routed[0].fail(NotSupportedError, "a write to a source table must be sent as a statement of its own")
        return routed[0], numbered

    def _target(self, write: Write) -> Routed | None:
        federation = self.connection.federation
        found = federation.default if write.schema is None else federation.source(write.schema)
        if found is None:
            return None
        key, connector = found
        canonical = connector.resolve(write.table)
        if canonical is None:
            if write.schema is None:
                return None  # an ordinary DuckDB table
            raise UnknownTableError(f"source {key!r} has no table {write.table!r}", source=connector.scheme)
        return Routed(write, key, connector, connector.table(canonical))

    # -- running ----------------------------------------------------------------------------------------------

    def run(self, routed: Routed, sql: str, parameter_sets: Sequence[Parameters]) -> int:
        """Run the statement once per parameter set; leave its result on the DuckDB connection; the row count."""
        self.connection.prepare(sql)
        self._check_table(routed)
        write = routed.write
        if write.kind is Kind.INSERT:
            count, returned = self._insert(routed, parameter_sets)
        elif len(parameter_sets) > 1 and pinned_key(write, self._key(routed).name) is not None:
            count, returned = self._by_pinned_keys(routed, parameter_sets)
        else:
            count, returned = 0, []
            for parameters in parameter_sets:
                written, rows = self._by_where(routed, parameters)
                count += written
                returned.append(rows)
        self._result(routed, count, returned)
        return count

    def _check_table(self, routed: Routed) -> None:
        info, kind = routed.info, routed.write.kind
        allowed = {Kind.INSERT: info.insertable, Kind.UPDATE: info.updatable, Kind.DELETE: info.deletable}[kind]
        if not allowed:
            raise routed.fail(ReadOnlyError, f"table {info.name!r} is read-only: the API does not allow {kind.value}")

    def _key(self, routed: Routed) -> Column:
        key = routed.info.primary_key
        if key is None:
            raise routed.fail(NotSupportedError, f"table {routed.info.name!r} has no key to write rows by")
        return key

    def _columns(self, routed: Routed, names: Sequence[str]) -> list[Column]:
        """The writable columns `names` name, or the error naming every one that is unknown or read-only."""
        kind, info = routed.write.kind, routed.info
        try:
            columns = [info.column(name) for name in names]
        except UnknownColumnError as error:
            raise routed.fail(UnknownColumnError, error.message) from None
        seen = Counter(c.name for c in columns)
        if any(n > 1 for n in seen.values()):
            twice = ", ".join(name for name, n in seen.items() if n > 1)
            raise routed.fail(ProgrammingError, f"column {twice} is given more than once")
        refused = [c.name for c in columns if not (c.insertable if kind is Kind.INSERT else c.updatable)]
        if refused:
            verb = "set on insert" if kind is Kind.INSERT else "updated"
            raise routed.fail(ReadOnlyError, f"column {', '.join(refused)} of {info.name!r} can't be {verb}")
        return columns

    def _select(self, query: exp.Expr, parameters: Parameters) -> pa.Table:
        sql = query.sql(DIALECT)
        duck = self.connection.duckdb
        table: pa.Table = self.connection._run(lambda: duck.sql(sql, params=parameters or None).to_arrow_table())
        return table

    # -- INSERT -----------------------------------------------------------------------------------------------

    def _insert(self, routed: Routed, parameter_sets: Sequence[Parameters]) -> tuple[int, list[pa.Table]]:
        write, info = routed.write, routed.info
        try:
            listed = write.columns()
        except ProgrammingError as error:
            raise routed.fail(ProgrammingError, error.message) from None
        if listed is not None:
            self._check_required(routed, self._columns(routed, listed))
        query = rows_query(write, listed)
        check_placeholders(write, [query])
        pieces = [self._select(query, parameters) for parameters in parameter_sets]
        if not pieces:
            return 0, []
        raw = pa.concat_tables([p.drop_columns([ORDINAL]) if ORDINAL in p.column_names else p for p in pieces])
        if listed is None:
            columns = self._columns(routed, raw.column_names)
            self._check_required(routed, columns)
        elif raw.num_columns != len(listed):
            raise routed.fail(
                ProgrammingError, f"INSERT names {len(listed)} columns but its query gives {raw.num_columns}"
            )
        else:
            columns = [info.column(name) for name in listed]
        rows = self._coerce(routed, raw.rename_columns([c.name for c in columns]), columns)
        self._check_values_present(routed, rows, columns)
        result = self._write(routed, lambda: routed.table.insert(rows))
        key = info.primary_key
        written = rows.append_column(key.name, pa.array(result.keys, key.type)) if key is not None else rows
        return result.count, [self._returned(routed, written)]

    def _check_required(self, routed: Routed, columns: Sequence[Column]) -> None:
        given = {c.name for c in columns}
        missing = [c.name for c in routed.info.columns if c.required and c.name not in given]
        if missing:
            raise routed.fail(IntegrityError, f"INSERT into {routed.info.name!r} must set {', '.join(missing)}")

    def _check_values_present(
        self, routed: Routed, rows: pa.Table, columns: Sequence[Column], keys: Sequence[object] = ()
    ) -> None:
        """No NULL where the API requires a value; the row (of an INSERT) or record (of an UPDATE) is named."""
        for column in columns:
            if column.required and rows.column(column.name).null_count:
                row = first_true(pc.is_null(rows.column(column.name)))
                where = f"record {keys[row]}" if keys else f"row {row + 1}"
                raise routed.fail(IntegrityError, f"column {column.name!r} can't be null ({where})")

    # -- UPDATE and DELETE ------------------------------------------------------------------------------------

    def _values(self, routed: Routed) -> tuple[list[Column], list[exp.Expr]]:
        if routed.write.kind is not Kind.UPDATE:
            return [], []
        pairs = routed.write.assignments()
        return self._columns(routed, [name for name, _ in pairs]), [value for _, value in pairs]

    def _by_where(self, routed: Routed, parameters: Parameters) -> tuple[int, pa.Table | None]:
        """One UPDATE or DELETE: resolve the keys through a scan, then write by key."""
        key = self._key(routed)
        columns, values = self._values(routed)
        # A DELETE's RETURNING can only read the rows before they go; an UPDATE's re-reads them afterwards.
        before = self._returned_columns(routed) if routed.write.kind is Kind.DELETE else []
        query = resolve_query(routed.write, key.name, values, before)
        check_placeholders(routed.write, [query])
        found = self._distinct(routed, self._select(query, parameters), keep_last=False)
        new = found.select([f"__duckfed_set_{i}" for i in range(len(values))]).rename_columns([c.name for c in columns])
        old = {name: found.column(f"__duckfed_col_{i}") for i, name in enumerate(before)}
        return self._apply(routed, found.column(KEY).cast(key.type).to_pylist(), new, old)

    def _by_pinned_keys(self, routed: Routed, parameter_sets: Sequence[Parameters]) -> tuple[int, list[pa.Table]]:
        """Many `… WHERE key = $n` statements as one batch: their keys and values are constants, so DuckDB
        evaluates them without a scan, and one lookup per `KEYS_PER_LOOKUP` keys finds which records exist."""
        key = self._key(routed)
        columns, values = self._values(routed)
        pinned = pinned_key(routed.write, key.name)
        assert pinned is not None
        query = constant_query([pinned, *values])
        check_placeholders(routed.write, [query])
        evaluated = pa.concat_tables([self._select(query, parameters) for parameters in parameter_sets])
        evaluated = evaluated.rename_columns([KEY, *(f"__duckfed_set_{i}" for i in range(len(values)))])
        evaluated = evaluated.set_column(0, KEY, evaluated.column(KEY).cast(key.type))
        present = self._lookup(routed, evaluated.column(KEY).to_pylist(), [])
        evaluated = evaluated.filter(
            pc.is_in(evaluated.column(KEY), value_set=present.column(key.name).combine_chunks())
        )
        # A key given twice takes its last values, as running the statements one after another would.
        evaluated = self._distinct(routed, evaluated, keep_last=True)
        new = evaluated.drop_columns([KEY]).rename_columns([c.name for c in columns])
        count, returned = self._apply(routed, evaluated.column(KEY).to_pylist(), new, {})
        return count, [returned] if returned is not None else []

    def _distinct(self, routed: Routed, found: pa.Table, *, keep_last: bool) -> pa.Table:
        """One row per key: a join in UPDATE … FROM can match a record twice, but not set it to two values."""
        keys = found.column(KEY).to_pylist()
        if len(set(keys)) == len(keys):
            return found
        values = found.select([n for n in found.column_names if n.startswith("__duckfed_set_")]).to_pylist()
        chosen: dict[object, int] = {}
        for index, value in enumerate(keys):
            previous = chosen.get(value)
            if previous is None or keep_last:
                chosen[value] = index
            elif values[previous] != values[index]:
                raise routed.fail(ProgrammingError, f"the UPDATE sets record {value} twice, to different values")
        return found.take(pa.array(sorted(chosen.values()), pa.int64()))

    def _apply(
        self, routed: Routed, keys: list[object], new: pa.Table, before: Mapping[str, pa.ChunkedArray]
    ) -> tuple[int, pa.Table | None]:
        """Write an UPDATE's values (or a DELETE) to these keys; the count and the rows for RETURNING."""
        key = self._key(routed)
        if not keys:
            return 0, self._returned(routed, pa.table({key.name: pa.array([], key.type)}))
        written: dict[str, pa.Array | pa.ChunkedArray] = {key.name: pa.array(keys, key.type), **before}
        if routed.write.kind is Kind.UPDATE:
            columns = [routed.info.column(name) for name in new.column_names]
            values = self._coerce(routed, new, columns)
            self._check_values_present(routed, values, columns, keys)
            result = self._write(routed, lambda: routed.table.update(keys, values))
            written.update(zip(values.column_names, values.columns, strict=True))
        else:
            result = self._write(routed, lambda: routed.table.delete(keys))
        rows = pa.table(written)
        if result.keys and len(set(result.keys)) != len(keys):
            # Records gone before the API reached them were not changed: RETURNING leaves them out.
            rows = rows.filter(pc.is_in(rows.column(key.name), value_set=pa.array(list(result.keys), key.type)))
        return result.count, self._returned(routed, rows)

    def _write(self, routed: Routed, call: Any) -> WriteResult:
        try:
            result: WriteResult = call()
        except WriteError as error:
            self.pending[routed.source] += error.written
            raise
        self.pending[routed.source] += result.count
        return result

    def _coerce(self, routed: Routed, rows: pa.Table, columns: Sequence[Column]) -> pa.Table:
        try:
            return cast_rows(self.connection.duckdb, rows, columns)
        except DataError as error:
            raise routed.fail(DataError, error.message) from None

    # -- RETURNING and the statement's result -----------------------------------------------------------------

    def _returned_columns(self, routed: Routed) -> list[str]:
        """The target columns the statement's RETURNING reads, in table order."""
        if not routed.write.returning():
            return []
        wanted = routed.write.returned_columns()
        if wanted is None:
            return [c.name for c in routed.info.columns]
        names = {routed.info.column(name).name for name in wanted}
        return [c.name for c in routed.info.columns if c.name in names]

    def _returned(self, routed: Routed, written: pa.Table) -> pa.Table | None:
        """The written rows with every column RETURNING reads; those the statement did not write (nor read, for
        a DELETE) are read back from the API by key, so they show what the API holds after the write."""
        wanted = self._returned_columns(routed)
        if not wanted:
            return None
        key = self._key(routed)
        missing = [name for name in wanted if name not in written.column_names]
        if missing:
            keys = written.column(key.name).to_pylist()
            fetched = self._lookup(routed, keys, missing)
            order = pc.index_in(written.column(key.name), value_set=fetched.column(key.name).combine_chunks())
            for name in missing:
                written = written.append_column(name, fetched.column(name).take(order))
        return written.select(wanted)

    def _lookup(self, routed: Routed, keys: Sequence[object], columns: Sequence[str]) -> pa.Table:
        """The records with these keys (those that exist), key first then `columns`, in chunks of IN lists."""
        key = self._key(routed)
        names = [key.name, *(c for c in columns if c != key.name)]
        select = ", ".join(f'"{n}"' for n in names)
        pieces = []
        for start in range(0, len(keys), KEYS_PER_LOOKUP):
            chunk = list(dict.fromkeys(keys[start : start + KEYS_PER_LOOKUP]))
            marks = ", ".join(f"${i}" for i in range(1, len(chunk) + 1))
            sql = f'SELECT {select} FROM {routed.view} WHERE "{key.name}" IN ({marks})'
            pieces.append(self._select(exp.maybe_parse(sql, dialect=DIALECT), chunk))
        schema = pa.schema([routed.info.schema.field(n) for n in names])
        return pa.concat_tables([p.cast(schema) for p in pieces]) if pieces else schema.empty_table()

    def _result(self, routed: Routed, count: int, returned: Sequence[pa.Table | None]) -> None:
        duck = self.connection.duckdb
        if routed.write.returning():
            tables = [t for t in returned if t is not None]
            columns = self._returned_columns(routed)
            schema = pa.schema([routed.info.schema.field(n) for n in columns])
            duck.register(_RESULT, pa.concat_tables(tables) if tables else schema.empty_table())
            sql = returning_query(routed.write, _RESULT).sql(DIALECT)
        else:
            sql = f'SELECT {int(count)}::BIGINT AS "Count"'
        self.connection._run(duck.execute, sql)

    # -- transactions -----------------------------------------------------------------------------------------

    def written(self) -> str | None:
        """What was written since the transaction began, as words ("3 records written to fin"), or None."""
        if not sum(self.pending.values()):
            return None
        parts = [f"{n:,} record{'s' if n != 1 else ''} written to {source}" for source, n in self.pending.items() if n]
        return " and ".join(parts)

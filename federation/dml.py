"""Writes to source tables: INSERT, UPDATE and DELETE statements routed to the target table's batch writes.

A statement whose target is a source table never reaches DuckDB as such (DuckDB can't write into a view over a
Python source). Instead, for one statement:

1. Checks that need only metadata, before any API call (`federation.write_checks`): the table accepts the
   operation, the columns exist and may be written, an INSERT gives every required column, an UPDATE or DELETE
   has a WHERE clause that can be false (SaaS writes can't be rolled back: reaching every record takes the
   `AllowUnscopedWrites` property). A column the API sets (the key) given only NULL in an INSERT, as an ORM
   sends a key it has not got yet, is left out; any other value for it is refused.
2. DuckDB evaluates what to write (`federation.statements` builds the queries, with the statement's own
   parameters): an INSERT's rows (the INSERT path is `federation.inserts`); for UPDATE and DELETE the keys of
   the rows the WHERE clause selects — a scan that pushes the WHERE clause to the API — and the new values.
3. Values are cast to the columns' types (DuckDB's casts; a value that does not fit fails the statement naming
   its column and row), and the table writes them by key in as few API calls as it can.
4. The statement's result is what DuckDB gives for its own DML (one row with the count) or its RETURNING rows,
   so `fetchall()`, `description` and `rowcount` behave as for any DuckDB statement.

`executemany` of an INSERT, or of an UPDATE/DELETE that pins one record by key (what the ORM sends), is one
batched write; any other UPDATE/DELETE runs once per parameter set. When the caller expects one record per
parameter set (`one_record_each`: an ORM flush, whose mapped key may not be the table's), every WHERE clause is
resolved first and a statement that would change more records than that is refused before anything is written.
Records written are counted until the next commit, so a rollback can say what it could not undo.

The connection is reached through `Host`, a protocol, so data flows one way: connection → DML → read-back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from federation.casting import cast_rows
from federation.connector import Connector
from federation.errors import (
    DataError,
    IntegrityError,
    NotSupportedError,
    ProgrammingError,
    WriteError,
)
from federation.inserts import insert, parameter_rows
from federation.progress import Progress
from federation.readback import Database, Parameters, Routed, answer, lookup, returned, returned_columns, select
from federation.statements import (
    DIALECT,
    KEY,
    Kind,
    Write,
    check_placeholders,
    constant_query,
    might_write,
    number_placeholders,
    parse_writes,
    pinned_key,
    resolve_query,
)
from federation.table import Column, WriteResult, write_calls
from federation.write_checks import check_scoped, check_table, check_values_present, written_columns


class Host(Database, Protocol):
    """What write routing needs from the connection it runs on."""

    #: The connection's progress bar, which a long write shows (`federation.progress`).
    progress: Progress

    def target(self, schema: str | None, table: str) -> tuple[str, Connector, str] | None:
        """(source key, connector, canonical name) of the source table a statement names, or None (DuckDB's own)."""
        ...

    def ensure(self, schema: str | None, table: str) -> None:
        """Register a table the statement reads, if it is a source table."""
        ...


class Writes:
    """Runs the write statements of one `Connection` and counts the records written since its last commit."""

    def __init__(self, connection: Host) -> None:
        self.connection = connection
        #: Records written to each source since the last begin, commit or rollback.
        self.pending: Counter[str] = Counter()

    # -- routing ----------------------------------------------------------------------------------------------

    def route(self, sql: str) -> Routed | None:
        """The statement, if `sql` writes to a source table."""
        if not might_write(sql):
            return None
        writes, statements = parse_writes(number_placeholders(sql))
        routed = [r for r in (self._target(w) for w in writes) if r is not None]
        if not routed:
            return None
        if statements > 1:
            raise routed[0].fail(NotSupportedError, "a write to a source table must be sent as a statement of its own")
        return routed[0]

    def _target(self, write: Write) -> Routed | None:
        found = self.connection.target(write.schema, write.table)
        if found is None:
            return None
        key, connector, canonical = found
        return Routed(write, key, connector, connector.table(canonical))

    # -- running ----------------------------------------------------------------------------------------------

    def run(self, routed: Routed, parameter_sets: Sequence[Parameters], *, one_record_each: bool = False) -> int:
        """Run the statement once per parameter set; leave its result on the DuckDB connection; the row count.
        With `one_record_each`, an UPDATE or DELETE whose WHERE matches more than one record for some parameter
        set is refused before anything is written."""
        try:
            with self.connection.progress.activity(f"{routed.write.kind.value} {routed.source}.{routed.info.name}"):
                return self._run(routed, parameter_sets, one_record_each)
        except (NotSupportedError, ProgrammingError, DataError, IntegrityError) as error:
            if error.source is not None:
                raise
            raise routed.fail(type(error), error.message) from None

    def _run(self, routed: Routed, parameter_sets: Sequence[Parameters], one_record_each: bool) -> int:
        for table in routed.write.statement.find_all(exp.Table):
            if table.name and not isinstance(table.this, exp.Func):
                self.connection.ensure(table.db or None, table.name)  # as `prepare` does, without parsing again
        check_table(routed)
        write = routed.write
        if write.kind is Kind.INSERT:
            count, returned = insert(self.connection, routed, parameter_sets, self._write)
            answer(self.connection, routed, count, returned)
            return count
        columns, values = self._values(routed)
        check_scoped(routed)
        if len(parameter_sets) > 1 and pinned_key(write, routed.key.name) is not None:
            count, returned = self._by_pinned_keys(routed, parameter_sets, columns, values)
        elif one_record_each:
            count, returned = self._one_record_each(routed, parameter_sets, columns, values)
        else:
            count, returned = 0, []
            for parameters in parameter_sets:
                written, rows = self._apply(routed, self._resolve(routed, parameters, values), columns)
                count += written
                returned.append(rows)
        answer(self.connection, routed, count, returned)
        return count

    # -- INSERT -----------------------------------------------------------------------------------------------

    # -- UPDATE and DELETE ------------------------------------------------------------------------------------

    def _values(self, routed: Routed) -> tuple[list[Column], list[exp.Expr]]:
        if routed.write.kind is not Kind.UPDATE:
            return [], []
        pairs = routed.write.assignments()
        return written_columns(routed, [name for name, _ in pairs]), [value for _, value in pairs]

    def _resolve(self, routed: Routed, parameters: Parameters, values: Sequence[exp.Expr]) -> pa.Table:
        """The records one UPDATE or DELETE reaches, through a scan that pushes its WHERE clause to the API: their
        keys (`KEY`), new values (`__duckfed_set_<i>`) and what a DELETE's RETURNING reads (`__duckfed_col_<i>`)."""
        # A DELETE's RETURNING can only read the rows before they go; an UPDATE's re-reads them afterwards.
        query = resolve_query(routed.write, routed.key.name, values, _read_before(routed))
        check_placeholders(routed.write, [query])
        return self._distinct(routed, select(self.connection, query, parameters), keep_last=False)

    def _one_record_each(
        self, routed: Routed, parameter_sets: Sequence[Parameters], columns: list[Column], values: list[exp.Expr]
    ) -> tuple[int, list[pa.Table | None]]:
        """An ORM flush's UPDATEs or DELETEs, one record each: every WHERE clause is resolved first, so one that
        reaches more records (the ORM's primary key is not the table's) refuses the flush before any write."""
        found = [self._resolve(routed, parameters, values) for parameters in parameter_sets]
        for records in found:
            if records.num_rows > 1:
                key, kind = routed.key, routed.write.kind.value
                python = "int" if pa.types.is_integer(key.type) else "str"
                raise routed.fail(
                    ProgrammingError,
                    f"the ORM expected this {kind} to change one record, but its WHERE clause matches "
                    f"{records.num_rows} records of {routed.info.name!r}, so nothing was written: map the table's "
                    f"key as the primary key, `{key.name}: Mapped[{python}] = mapped_column(primary_key=True)`",
                )
        merged = self._distinct(routed, pa.concat_tables(found, promote_options="permissive"), keep_last=True)
        count, rows = self._apply(routed, merged, columns)
        return count, [rows]

    def _by_pinned_keys(
        self, routed: Routed, parameter_sets: Sequence[Parameters], columns: list[Column], values: list[exp.Expr]
    ) -> tuple[int, list[pa.Table | None]]:
        """Many `… WHERE key = $n` statements as one batch: their keys and values are constants, so DuckDB
        evaluates them without a scan, and a lookup by key (`federation.readback`) finds which records exist."""
        key = routed.key
        pinned = pinned_key(routed.write, key.name)
        assert pinned is not None
        query = constant_query([pinned, *values])
        check_placeholders(routed.write, [query])
        names = [KEY, *(f"__duckfed_set_{i}" for i in range(len(values)))]
        direct = None
        if all(isinstance(e, exp.Placeholder) for e in (pinned, *values)):
            direct = parameter_rows([[str(e.this) for e in (pinned, *values)]], names, parameter_sets)
        if direct is not None:
            evaluated = direct
        else:
            sql = query.sql(DIALECT)
            evaluated = pa.concat_tables([select(self.connection, sql, parameters) for parameters in parameter_sets])
        evaluated = evaluated.rename_columns(names)
        evaluated = evaluated.set_column(0, KEY, evaluated.column(KEY).cast(key.type))
        present = lookup(self.connection, routed, evaluated.column(KEY).to_pylist(), [])
        evaluated = evaluated.filter(
            pc.is_in(evaluated.column(KEY), value_set=present.column(key.name).combine_chunks())
        )
        # A key given twice takes its last values, as running the statements one after another would.
        count, rows = self._apply(routed, self._distinct(routed, evaluated, keep_last=True), columns)
        return count, [rows]

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

    def _apply(self, routed: Routed, found: pa.Table, columns: list[Column]) -> tuple[int, pa.Table | None]:
        """Write an UPDATE's values (or a DELETE) to the records `_resolve` found; the count and the rows for
        RETURNING."""
        key = routed.key
        keys = found.column(KEY).cast(key.type).to_pylist()
        if not keys:
            return 0, returned(self.connection, routed, pa.table({key.name: pa.array([], key.type)}))
        written: dict[str, pa.Array | pa.ChunkedArray] = {key.name: pa.array(keys, key.type)}
        written.update((name, found.column(f"__duckfed_col_{i}")) for i, name in enumerate(_read_before(routed)))
        if routed.write.kind is Kind.UPDATE:
            new = found.select([f"__duckfed_set_{i}" for i in range(len(columns))])
            values = cast_rows(self.connection.duckdb, new.rename_columns([c.name for c in columns]), columns)
            check_values_present(routed, values, columns, keys)
            result = self._write(routed, len(keys), lambda: routed.table.update(keys, values))
            written.update(zip(values.column_names, values.columns, strict=True))
        else:
            result = self._write(routed, len(keys), lambda: routed.table.delete(keys))
        rows = pa.table(written)
        if result.keys and len(set(result.keys)) != len(keys):
            # Records gone before the API reached them were not changed: RETURNING leaves them out.
            rows = rows.filter(pc.is_in(rows.column(key.name), value_set=pa.array(list(result.keys), key.type)))
        return result.count, returned(self.connection, routed, rows)

    def _write(self, routed: Routed, records: int, call: Callable[[], WriteResult]) -> WriteResult:
        calls = write_calls(routed.info, records)
        kind = routed.write.kind.value
        routed.connector.check_budget(
            calls, f"{kind} of {records:,} record{'s' if records != 1 else ''} in {routed.info.name!r}"
        )
        try:
            result: WriteResult = call()
        except WriteError as error:
            self.pending[routed.source] += error.written
            raise
        self.pending[routed.source] += result.count
        self.connection.progress.wrote(result.count)
        return result

    # -- EXPLAIN ----------------------------------------------------------------------------------------------

    def explain(self, routed: Routed) -> tuple[str | None, list[str]]:
        """What EXPLAIN shows of a write before any call: the SELECT whose scans find its rows (the INSERT's query,
        the UPDATE's or DELETE's records), and the write calls that follow."""
        info, kind = routed.info, routed.write.kind
        label, per_call = f"{routed.source}.{info.name}", info.records_per_write
        each = f"{per_call} records a call" if per_call > 1 else "one call per record"
        statement = routed.write.statement
        if kind is Kind.INSERT:
            source = statement.expression
            if isinstance(source, exp.Values):
                rows = len(source.expressions)
                calls = write_calls(info, rows)
                records = f"{rows:,} record{'s' if rows != 1 else ''}"
                return None, [f"{label}: INSERT of {records} | {calls:,} call{'s' if calls != 1 else ''} ({each})"]
            query = source.sql(dialect=DIALECT) if source is not None else None
            return query, [f"{label}: INSERT of the rows the query gives | {each}"]
        _, values = self._values(routed)
        query = resolve_query(routed.write, routed.key.name, values, _read_before(routed)).sql(dialect=DIALECT)
        return query, [f"{label}: {kind.value} by key of the records the scan finds | {each}"]

    # -- transactions -----------------------------------------------------------------------------------------

    def written(self) -> str | None:
        """What was written since the transaction began, as words ("3 records written to fin"), or None."""
        if not sum(self.pending.values()):
            return None
        parts = [f"{n:,} record{'s' if n != 1 else ''} written to {source}" for source, n in self.pending.items() if n]
        return " and ".join(parts)


def _read_before(routed: Routed) -> list[str]:
    """The columns a DELETE's RETURNING reads, which only the scan that finds the records can read."""
    return returned_columns(routed) if routed.write.kind is Kind.DELETE else []
